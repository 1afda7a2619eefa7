/**
 * A small static-file handler `(Request) => Response` for `switchyard h3 serve`: GET and HEAD of
 * files under a root directory, `index.html` for directories, content types by extension,
 * no escaping the root.
 *
 * @example Usage
 * ```ts ignore
 * import { fileHandler } from "./file_server.ts";
 * import { serveH3 } from "./server.ts";
 * serveH3({ port: 4433, cert, key }, fileHandler("./public"));
 * ```
 * @module
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  css: "text/css",
  js: "application/javascript",
  mjs: "application/javascript",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  wasm: "application/wasm",
  pdf: "application/pdf",
  mp4: "video/mp4",
  woff2: "font/woff2",
};

/** Returns the content type for a file name. */
export function contentType(name: string): string {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

/** Options of {@linkcode fileHandler}. */
export interface FileHandlerOptions {
  /** Called after each response with method, path, status and size. */
  onResponse?: (method: string, path: string, status: number, size: number) => void;
}

/** Returns a handler serving the files under `root`. */
export function fileHandler(
  root: string,
  options: FileHandlerOptions = {},
): (req: Request) => Promise<Response> {
  const rootReal = Deno.realPathSync(root);
  const done = (req: Request, path: string, res: Response, size: number) => {
    options.onResponse?.(req.method, path, res.status, size);
    return res;
  };
  return async (req: Request) => {
    const url = new URL(req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return done(req, url.pathname, new Response("Bad request\n", { status: 400 }), 0);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return done(
        req,
        path,
        new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } }),
        0,
      );
    }
    if (path.includes("\0") || path.split("/").includes("..")) {
      return done(req, path, new Response("Bad request\n", { status: 400 }), 0);
    }
    let full = `${rootReal}${path}`;
    try {
      let stat = await Deno.stat(full);
      if (stat.isDirectory) {
        full = `${full.replace(/\/$/, "")}/index.html`;
        stat = await Deno.stat(full);
      }
      const real = await Deno.realPath(full);
      if (real !== rootReal && !real.startsWith(rootReal + "/")) throw new Deno.errors.NotFound();
      if (!stat.isFile) throw new Deno.errors.NotFound();
      const headers = {
        "content-type": contentType(full),
        "content-length": String(stat.size),
        ...(stat.mtime ? { "last-modified": stat.mtime.toUTCString() } : {}),
      };
      if (req.method === "HEAD") return done(req, path, new Response(null, { headers }), 0);
      // A byte stream: the HTTP/3 server reads it straight into its own buffers (writeByteStream);
      // it closes the file at the end or when cancelled.
      const file = await Deno.open(real);
      return done(req, path, new Response(file.readable, { headers }), stat.size);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return done(req, path, new Response("Not found\n", { status: 404 }), 0);
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        return done(req, path, new Response("Forbidden\n", { status: 403 }), 0);
      }
      throw e;
    }
  };
}
