/**
 * ngtcp2's example HTTP/3 peers (Debian `ngtcp2-client`/`ngtcp2-server`: `gtlsclient`,
 * `gtlsserver`, built on nghttp3) as interop partners. Missing peers skip their tests with a
 * printed reason, or fail under CI (which installs them); `SY_NGTCP2_CLIENT` /
 * `SY_NGTCP2_SERVER` override the paths.
 */
import { freeUdpPort } from "../_util/mod.ts";

export { freeUdpPort };

function find(candidates: string[]): string | undefined {
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Path of `gtlsserver`, if installed. */
export const NGTCP2_SERVER = Deno.env.get("SY_NGTCP2_SERVER") ??
  find(["/usr/sbin/gtlsserver", "/usr/bin/gtlsserver"]);
/** Path of `gtlsclient`, if installed. */
export const NGTCP2_CLIENT = Deno.env.get("SY_NGTCP2_CLIENT") ??
  find(["/usr/bin/gtlsclient", "/usr/sbin/gtlsclient"]);

/**
 * Whether `path` (one of the two above) is usable: a missing peer is a failure under CI, which
 * installs it, and a printed skip elsewhere.
 *
 * @throws {Error} In CI when the peer is missing
 */
export function havePeer(path: string | undefined, name: string, pkg: string): boolean {
  if (path) return true;
  if (Deno.env.get("CI")) throw new Error(`${name} is missing: CI must install the Debian package "${pkg}"`);
  console.log(`SKIP: ${name} not installed (apt-get install ${pkg})`);
  return false;
}

/** A running `gtlsserver`. */
export interface Ngtcp2Server {
  port: number;
  /** Process ID of `gtlsserver`. */
  pid: number;
  /** Everything it printed so far (stdout and stderr), when started with `verbose`. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `gtlsserver` serving `htdocs` on 127.0.0.1 and waits until it accepts QUIC handshakes.
 * With `verbose`, HTTP dumps (request headers) are kept; QUIC packet dumps are always off.
 */
export async function startNgtcp2Server(
  htdocs: string,
  keyFile: string,
  certFile: string,
  caPem: string,
  verbose = false,
): Promise<Ngtcp2Server> {
  const port = freeUdpPort();
  const args = verbose ? ["--no-quic-dump", "--no-http-dump"] : ["-q"];
  const proc = new Deno.Command(NGTCP2_SERVER!, {
    args: [...args, "-d", htdocs, "127.0.0.1", String(port), keyFile, certFile],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) out += decoder.decode(c, { stream: true });
  };
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]);
  // Ready once a handshake completes.
  for (let i = 0;; i++) {
    try {
      const conn = await Deno.connectQuic({
        hostname: "127.0.0.1",
        port,
        serverName: "localhost",
        caCerts: [caPem],
        alpnProtocols: ["h3"],
        maxIdleTimeout: 1000,
      });
      conn.close();
      break;
    } catch (e) {
      if (i > 50) throw new Error(`gtlsserver did not start: ${e}\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    pid: proc.pid,
    output: () => out,
    async stop() {
      try {
        proc.kill("SIGTERM");
      } catch {
        // exited
      }
      await proc.status;
      await drained;
    },
  };
}

/** Runs `gtlsclient` against 127.0.0.1:`port` and returns its exit code and output. */
export async function runNgtcp2Client(
  port: number,
  urls: string[],
  extra: string[] = [],
  timeoutMs = 60000,
): Promise<{ code: number; output: string; seconds: number }> {
  const t0 = performance.now();
  const cmd = new Deno.Command(NGTCP2_CLIENT!, {
    args: ["--exit-on-all-streams-close", "--no-quic-dump", ...extra, "127.0.0.1", String(port), ...urls],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  });
  const out = await cmd.output();
  const seconds = (performance.now() - t0) / 1000;
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr), seconds };
}

/** Writes `size` bytes of varied content to `path` and returns its SHA-256 in hex. */
export async function writeTestFile(path: string, size: number): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const block = new Uint8Array(1 << 20);
  crypto.getRandomValues(block.subarray(0, 65536));
  for (let i = 65536; i < block.length; i += 65536) block.copyWithin(i, 0, 65536);
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (let at = 0, n = 0; at < size; at += block.length, n++) {
      // Stamp the block number so reordered blocks would change the hash.
      new DataView(block.buffer).setUint32(0, n);
      const part = block.subarray(0, Math.min(block.length, size - at));
      hash.update(part);
      let off = 0;
      while (off < part.length) off += await f.write(part.subarray(off));
    }
  } finally {
    f.close();
  }
  return hash.digest("hex");
}

/** SHA-256 (hex) of a file. */
export async function fileSha256(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const f = await Deno.open(path);
  for await (const c of f.readable) hash.update(c);
  return hash.digest("hex");
}
