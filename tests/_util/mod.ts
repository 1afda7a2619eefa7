/**
 * Test helpers: free ports, a local origin server, spawning `switchyard run` and peers as
 * subprocesses, curl, and tool availability checks. Traffic stays on loopback.
 *
 * @module
 */

/** Path of the CLI entry point. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * Test listen ports come from 20000..32767, below Linux's ephemeral range (32768..60999):
 * a port the kernel would hand to some parallel test's outgoing connection cannot be taken
 * between picking it and binding it. Each pick is checked free for TCP and UDP.
 */
const PORT_LOW = 20000;
const PORT_HIGH = 32767;
const CLAIM_DIR = `${Deno.env.get("TMPDIR") ?? "/tmp"}/switchyard-test-ports`;
/** A claim older than this is from a finished run and may be reused, ms. */
const CLAIM_STALE_MS = 10 * 60_000;

function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims `port` for this test run across all test workers and processes: creating the marker
 * file with `createNew` is atomic, so two parallel test files never get the same port.
 */
function claim(port: number): boolean {
  const path = `${CLAIM_DIR}/${port}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.openSync(path, { write: true, createNew: true }).close();
      return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const age = Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0);
      if (age < CLAIM_STALE_MS) return false;
      try {
        Deno.removeSync(path);
      } catch { /* another worker removed it first */ }
    }
  }
  return false;
}

/** Returns a port that is free for TCP and UDP on 127.0.0.1 and claimed by no other test. */
export function freePort(): number {
  Deno.mkdirSync(CLAIM_DIR, { recursive: true });
  for (let i = 0; i < 1000; i++) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (!claim(port)) continue;
    if (isFree(port)) return port;
  }
  throw new Error("No free test port found");
}

/** Returns a UDP port that was free a moment ago (same range as {@linkcode freePort}). */
export function freeUdpPort(): number {
  return freePort();
}

/** Waits until a TCP connect to `port` succeeds. */
export async function waitForPort(port: number, timeoutMs = 15_000, hostname = "127.0.0.1"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname, port });
      c.close();
      return;
    } catch (e) {
      if (performance.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms: ${e}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Body served by the origin at `/hello.txt`. */
export const HELLO = "hello-from-origin\n";

/** A local HTTP origin: `/hello.txt`, `/bytes?n=N` (N zero bytes), `/echo-headers`, `/remote` (client IP). */
export function startOrigin(): { port: number; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
    const url = new URL(req.url);
    if (url.pathname === "/hello.txt") return new Response(HELLO);
    if (url.pathname === "/remote") return new Response(info.remoteAddr.hostname);
    if (url.pathname === "/echo-headers") return Response.json(Object.fromEntries(req.headers));
    if (url.pathname === "/bytes") {
      const n = Number(url.searchParams.get("n") ?? "0");
      return new Response(new Uint8Array(n));
    }
    return new Response("not found", { status: 404 });
  });
  return { port: server.addr.port, close: () => server.shutdown() };
}

/** Result of a finished command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion. */
export async function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const td = new TextDecoder();
  return { code: out.code, stdout: td.decode(out.stdout), stderr: td.decode(out.stderr) };
}

/** Runs the Switchyard CLI (`deno run main.ts …`) to completion. */
export function cli(args: string[], opts: { stdin?: string; cwd?: string } = {}): Promise<CommandResult> {
  return run(Deno.execPath(), ["run", "-A", "--unstable-net", MAIN, ...args], opts);
}

/** Runs curl with a 20 s cap; `-s` is always added. */
export function curl(args: string[]): Promise<CommandResult> {
  return run("curl", ["-s", "--max-time", "20", ...args]);
}

/** A long-running child process with its stderr collected. */
export interface Daemon {
  child: Deno.ChildProcess;
  /** Everything written to stderr (and stdout) so far. */
  output(): string;
  /** Sends `signal` (default SIGTERM) and waits for exit; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Spawns a daemon, collecting its output. */
export function spawnDaemon(cmd: string, args: string[], opts: { cwd?: string } = {}): Daemon {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const td = new TextDecoder();
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) text += td.decode(chunk, { stream: true });
  };
  const drains = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let stopped: Promise<number> | null = null;
  return {
    child,
    output: () => text,
    stop(signal: Deno.Signal = "SIGTERM") {
      stopped ??= (async () => {
        try {
          child.kill(signal);
        } catch { /* already exited */ }
        const status = await child.status;
        await drains;
        return status.code;
      })();
      return stopped;
    },
  };
}

/** A running `switchyard run` with its temp directory. */
export interface Switchyard extends Daemon {
  dir: string;
  configPath: string;
}

/**
 * Writes `config` to a temp file and starts `switchyard run -c` on it; waits for `waitPorts`.
 * @throws {Error} With the daemon's output if a port does not open
 */
export async function startSwitchyard(config: unknown, waitPorts: number[]): Promise<Switchyard> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-test-" });
  const configPath = `${dir}/config.json`;
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
  const d = spawnDaemon(Deno.execPath(), ["run", "-A", "--unstable-net", MAIN, "run", "-c", configPath]);
  try {
    for (const p of waitPorts) await waitForPort(p);
  } catch (e) {
    await d.stop("SIGKILL");
    throw new Error(`${(e as Error).message}\n--- switchyard output ---\n${d.output()}`);
  }
  const stop = d.stop;
  return {
    ...d,
    dir,
    configPath,
    async stop(signal?: Deno.Signal) {
      const code = await stop(signal);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return code;
    },
  };
}

/** Reports whether an executable is on PATH. */
export function hasTool(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

/**
 * Checks that a peer tool exists. Under CI a missing tool is a failure (CI installs it);
 * elsewhere the test is skipped with a printed reason.
 * @returns true when the tool is available
 * @throws {Error} In CI when it is missing
 */
export function requireTool(name: string, pkg: string): boolean {
  if (hasTool(name)) return true;
  if (Deno.env.get("CI")) throw new Error(`${name} is missing: CI must install the Debian package "${pkg}"`);
  console.log(`SKIP: ${name} not installed (apt-get install ${pkg})`);
  return false;
}
