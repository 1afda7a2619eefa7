/**
 * `switchyard h3 get` and `switchyard h3 serve`: curl-like HTTP/3 requests and a static HTTP/3
 * file server, on Switchyard's own HTTP/3 over Deno QUIC.
 *
 * ```sh
 * switchyard h3 get --cacert ca.pem -H 'accept: text/html' -o page.html https://localhost:4433/
 * switchyard h3 serve ./public --cert cert.pem --key key.pem --listen 0.0.0.0:4433
 * ```
 *
 * `--insecure` needs Deno's `--unsafely-ignore-certificate-errors`, which only exists as a runtime
 * flag: under `deno run` the command re-runs itself with it for the URL's host.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import { UsageError } from "../common/errors.ts";
import { getLogger, setupLogging } from "../common/log.ts";
import { H3Client, responseTrailers } from "../http3/client.ts";
import { fileHandler } from "../http3/file_server.ts";
import { serveH3 } from "../http3/server.ts";

const INSECURE_ENV = "SWITCHYARD_H3_INSECURE";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses `-H 'name: value'`. */
export function parseHeaderArg(arg: string): [string, string] {
  const i = arg.indexOf(":");
  if (i <= 0) throw new InvalidArgumentError(`header "${arg}" is not "name: value"`);
  return [arg.slice(0, i).trim(), arg.slice(i + 1).trim()];
}

/** Parses `HOST:PORT` (`[::1]:443`, `:4433` for all interfaces). */
export function parseHostPort(addr: string): { hostname: string; port: number } {
  const m = addr.match(/^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`listen address "${addr}" is not HOST:PORT`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

interface GetOptions {
  cacert?: string;
  insecure?: boolean;
  output?: string;
  header: string[];
  request?: string;
  data?: string;
  include?: boolean;
  fail?: boolean;
  serverName?: string;
  verbose?: boolean;
  maxTime?: number;
}

/** Re-runs this process with certificate checks off for `host`; returns its exit code. */
async function rerunInsecure(host: string): Promise<number> {
  const exe = Deno.execPath();
  if (!/(^|\/)deno(\.exe)?$/.test(exe)) {
    throw new UsageError(
      "Cannot use --insecure in a compiled binary: compile it with --unsafely-ignore-certificate-errors, or pass --cacert",
    );
  }
  const child = new Deno.Command(exe, {
    args: [
      "run",
      "-A",
      "--unstable-net",
      `--unsafely-ignore-certificate-errors=${host}`,
      Deno.mainModule,
      ...Deno.args,
    ],
    env: { [INSECURE_ENV]: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Drop Deno's "DANGER: TLS certificate validation is disabled" banner; keep the rest.
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  for await (const chunk of child.stderr) {
    const text = dec.decode(chunk, { stream: true }).replace(
      /^.*DANGER: TLS certificate validation is disabled.*\n?/m,
      "",
    );
    if (text) await Deno.stderr.write(enc.encode(text));
  }
  return (await child.status).code;
}

async function get(url: string, o: GetOptions): Promise<void> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`Invalid URL "${url}"`);
  }
  if (target.protocol !== "https:") {
    throw new UsageError(`Cannot fetch "${url}" over HTTP/3: only https: URLs`);
  }
  if (o.insecure && Deno.env.get(INSECURE_ENV) !== "1") {
    Deno.exitCode = await rerunInsecure(target.hostname.replace(/^\[(.*)\]$/, "$1"));
    return;
  }
  const headers = new Headers();
  for (const h of o.header) headers.append(...parseHeaderArg(h));
  const client = new H3Client({
    ...(o.cacert ? { caCerts: [await Deno.readTextFile(o.cacert)] } : {}),
    ...(o.serverName ? { serverName: o.serverName } : {}),
  });
  const enc = new TextEncoder();
  const err = (s: string) => Deno.stderr.writeSync(enc.encode(s + "\n"));
  const signal = o.maxTime ? AbortSignal.timeout(o.maxTime * 1000) : undefined;
  const method = o.request ?? (o.data !== undefined ? "POST" : "GET");
  try {
    const t0 = performance.now();
    let res: Response;
    try {
      res = await client.fetch(target, {
        method,
        headers,
        ...(o.data !== undefined
          ? { body: o.data.startsWith("@") ? await Deno.readFile(o.data.slice(1)) : o.data }
          : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (e instanceof Error && /peer certificate|UnknownIssuer|not valid for name/.test(e.message)) {
        throw new Error(`${e.message} (pass --cacert FILE to trust a CA, or --insecure)`, { cause: e });
      }
      throw e;
    }
    const head = [`HTTP/3 ${res.status}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)].join("\r\n") +
      "\r\n\r\n";
    if (o.verbose) err(head.trimEnd().split("\r\n").map((l) => `< ${l}`).join("\n"));
    const out = o.output
      ? await Deno.open(o.output, { write: true, create: true, truncate: true })
      : Deno.stdout;
    let bytes = 0;
    try {
      if (o.include) await out.write(enc.encode(head));
      if (res.body) {
        for await (const chunk of res.body) {
          bytes += chunk.length;
          let off = 0;
          while (off < chunk.length) off += await out.write(chunk.subarray(off));
        }
      }
    } finally {
      if (o.output) out.close();
    }
    const trailers = await responseTrailers(res);
    if (o.verbose) {
      for (const [k, v] of trailers) err(`< ${k}: ${v} (trailer)`);
      const s = (performance.now() - t0) / 1000;
      err(`* ${bytes} bytes in ${s.toFixed(3)} s (${(bytes / s / 1e6).toFixed(1)} MB/s)`);
    }
    if (o.fail && res.status >= 400) {
      err(`switchyard h3 get: the requested URL returned error: ${res.status}`);
      Deno.exitCode = 22;
    }
  } finally {
    await client.close();
  }
}

async function serve(dir: string, o: { cert: string; key: string; listen: string; logLevel: string }) {
  const { hostname, port } = parseHostPort(o.listen);
  await setupLogging({ level: o.logLevel as "info", timestamp: true });
  const log = getLogger("h3-serve");
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new UsageError(`"${dir}" is not a directory`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`Directory "${dir}" does not exist`);
    throw e;
  }
  const handler = fileHandler(dir, {
    onResponse: (method, path, status, size) => log.info(`${method} ${path} ${status} ${size}`),
  });
  const ac = new AbortController();
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const server = serveH3({
    hostname,
    port,
    cert: await Deno.readTextFile(o.cert),
    key: await Deno.readTextFile(o.key),
    signal: ac.signal,
  }, handler);
  const a = server.addr;
  log.info(
    `serving ${dir} over HTTP/3 on ${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`,
  );
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
}

/** Registers `switchyard h3 get` and `switchyard h3 serve`. */
export function registerH3(program: Command): void {
  const h3 = program.command("h3").description("HTTP/3 client and static file server");
  h3.command("get")
    .description("Fetch a URL over HTTP/3 and write the body to stdout")
    .argument("<url>", "https: URL")
    .option("--cacert <file>", "trust this CA certificate (PEM) in addition to the system roots")
    .option("-k, --insecure", "do not verify the server certificate")
    .option("-o, --output <file>", "write the body to a file instead of stdout")
    .option("-H, --header <header>", "add a request header 'name: value' (repeatable)", collect, [])
    .option("-X, --request <method>", "request method")
    .option("-d, --data <data>", "send a request body (@file reads a file); implies POST")
    .option("-i, --include", "print the response status and headers before the body")
    .option("-f, --fail", "exit with code 22 on HTTP status 400 or above")
    .option("--server-name <name>", "TLS server name (default: the URL host)")
    .option("-v, --verbose", "print response headers, trailers and timing to stderr")
    .option("-m, --max-time <seconds>", "give up after this many seconds", (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError(`"${v}" is not a positive number`);
      return n;
    })
    .action((url: string, o: GetOptions) => get(url, o));
  h3.command("serve")
    .description("Serve a directory over HTTP/3")
    .argument("<dir>", "directory to serve")
    .requiredOption("--cert <file>", "certificate chain (PEM)")
    .requiredOption("--key <file>", "private key (PEM)")
    .option("--listen <host:port>", "UDP address to listen on", "0.0.0.0:4433")
    .option("--log-level <level>", "log level", "info")
    .action((dir: string, o: { cert: string; key: string; listen: string; logLevel: string }) =>
      serve(dir, o)
    );
  for (const cmd of h3.commands) cmd.exitOverride().showHelpAfterError();
}
