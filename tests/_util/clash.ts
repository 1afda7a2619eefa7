/**
 * Helpers for the group and Clash API tests: named local origins (each answers with its name,
 * optionally after a delay, or streams slowly) and a curl wrapper for API calls.
 *
 * @module
 */
import { curl } from "./mod.ts";

/** A local HTTP origin that answers `origin-<name>`. */
export interface NamedOrigin {
  name: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts an origin answering every request with `origin-<name>\n` after `delayMs`;
 * `/stream` sends one line every 100 ms for a minute (a long-lived connection) and
 * `/bytes?n=N` sends N zero bytes.
 */
export function startNamedOrigin(name: string, delayMs = 0): NamedOrigin {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/stream") {
        let timer: ReturnType<typeof setInterval> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            let n = 0;
            timer = setInterval(() => {
              if (++n > 600 || ac.signal.aborted) {
                clearInterval(timer);
                c.close();
                return;
              }
              c.enqueue(new TextEncoder().encode(`${name} ${n}\n`));
            }, 100);
          },
          cancel() {
            clearInterval(timer);
          },
        });
        return new Response(body);
      }
      if (url.pathname === "/bytes") {
        return new Response(
          new Uint8Array(Number(url.searchParams.get("n") ?? 0)),
        );
      }
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return new Response(`origin-${name}\n`);
    },
  );
  return {
    name,
    port: server.addr.port,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

/** Response of {@linkcode api}. */
export interface ApiResult {
  status: number;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** Calls the Clash API at `127.0.0.1:port` with curl. */
export async function api(
  port: number,
  path: string,
  o: { method?: string; body?: unknown; secret?: string; headers?: string[] } = {},
): Promise<ApiResult> {
  const args = ["-X", o.method ?? "GET", "-w", "\n%{http_code}"];
  if (o.secret !== undefined) args.push("-H", `Authorization: Bearer ${o.secret}`);
  for (const h of o.headers ?? []) args.push("-H", h);
  if (o.body !== undefined) {
    args.push(
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      typeof o.body === "string" ? o.body : JSON.stringify(o.body),
    );
  }
  const r = await curl([...args, `http://127.0.0.1:${port}${path}`]);
  const cut = r.stdout.lastIndexOf("\n");
  const body = r.stdout.slice(0, cut);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch { /* not JSON */ }
  return { status: Number(r.stdout.slice(cut + 1)), body, json };
}

/** Fetches `url` through the mixed proxy at `proxyPort` with curl; resolves to the body. */
export async function viaProxy(proxyPort: number, url: string): Promise<string> {
  return (await curl(["-x", `http://127.0.0.1:${proxyPort}`, url])).stdout;
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
