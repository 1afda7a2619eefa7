import { freePort as sharedFreePort } from "../_util/mod.ts";
/**
 * End to end: `paniq proxy` and `paniq socks` as separate processes on loopback with the §4.7
 * example profile, curl through the SOCKS5 port to a local origin.
 */
import { assert, assertEquals } from "./_assert.ts";
import { EXAMPLE_PROFILE } from "./_helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const BODY = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7 + (i >> 10)) & 0xff);

function freePort(_transport: "tcp" | "udp"): number {
  return sharedFreePort();
}

function spawn(args: string[], extra: string[] = []): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", ...extra, MAIN, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function waitLine(p: Deno.ChildProcess, needle: string, log: string[]): Promise<void> {
  const reader = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 20_000;
  let found = false;
  (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true, value: "" }));
      if (r.done) break;
      log.push(r.value ?? "");
      if ((r.value ?? "").includes(needle)) found = true;
    }
  })();
  while (!found) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for "${needle}": ${log.join("")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function curl(
  socksPort: number,
  url: string,
  timeoutS = 20,
): Promise<{ code: number; body: Uint8Array }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "--max-time", String(timeoutS), "--socks5-hostname", `127.0.0.1:${socksPort}`, url],
    stdout: "piped",
    stderr: "null",
  }).output();
  return { code: out.code, body: out.stdout };
}

async function stop(p: Deno.ChildProcess): Promise<void> {
  try {
    p.kill("SIGTERM");
  } catch { /* gone */ }
  await p.status;
}

for (const replay of [false, true]) {
  Deno.test({
    name:
      `e2e: paniq proxy + paniq socks processes, curl via SOCKS5 (transport_replay=${replay}), 50 parallel, server restart`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir();
      const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(BODY));
      const originUrl = `http://127.0.0.1:${origin.addr.port}/`;
      const udpPort = freePort("udp");
      const socksPort = freePort("tcp");
      const profile = structuredClone(EXAMPLE_PROFILE) as typeof EXAMPLE_PROFILE;
      profile.proxy_addr = `127.0.0.1:${udpPort}`;
      profile.obfuscation.transport_replay = replay;
      await Deno.writeTextFile(`${dir}/profile.json`, JSON.stringify(profile));
      await Deno.writeTextFile(
        `${dir}/proxy.json`,
        JSON.stringify({ listen_addr: `127.0.0.1:${udpPort}`, metrics_interval: "1s" }),
      );
      await Deno.writeTextFile(
        `${dir}/socks.json`,
        JSON.stringify({ listen_addr: `127.0.0.1:${socksPort}`, max_connections: 256 }),
      );
      const proxyArgs = [
        "paniq",
        "proxy",
        "--config",
        `${dir}/proxy.json`,
        "--profile",
        `${dir}/profile.json`,
      ];
      const slog: string[] = [];
      const plog: string[] = [];
      let server = spawn(proxyArgs);
      const client = spawn(
        ["paniq", "socks", "--config", `${dir}/socks.json`, "--profile", `${dir}/profile.json`],
        ["--unsafely-ignore-certificate-errors=127.0.0.1"],
      );
      try {
        await waitLine(server, "proxy server listening", plog);
        await waitLine(client, "socks5 daemon listening", slog);
        const one = await curl(socksPort, originUrl);
        assertEquals(one.code, 0);
        assertEquals(one.body, BODY);
        const many = await Promise.all(Array.from({ length: 50 }, () => curl(socksPort, originUrl, 60)));
        for (const r of many) {
          assertEquals(r.code, 0);
          assertEquals(r.body.length, BODY.length);
        }
        // Kill the server mid-transfer, restart it, and check that new sessions recover.
        const inflight = curl(socksPort, originUrl, 10);
        await new Promise((r) => setTimeout(r, 30));
        server.kill("SIGKILL");
        await server.status;
        await inflight;
        server = spawn(proxyArgs);
        await waitLine(server, "proxy server listening", plog);
        let ok = false;
        for (let i = 0; i < 3 && !ok; i++) {
          const r = await curl(socksPort, originUrl, 30);
          ok = r.code === 0 && r.body.length === BODY.length;
        }
        assert(ok, `no recovery after restart: ${slog.join("")}`);
        await new Promise((r) => setTimeout(r, 1200));
        assert(plog.join("").includes("proxy metrics active="), "metrics line");
      } finally {
        await stop(client);
        await stop(server);
        await origin.shutdown();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
