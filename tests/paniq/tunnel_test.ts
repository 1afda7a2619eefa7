import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { parseProfile, resolveClient, resolveServer } from "../../src/protocol/paniq/profile.ts";
import { PaniqMetrics } from "../../src/protocol/paniq/metrics.ts";
import { PaniqServer } from "../../src/transport/paniq/server.ts";
import { PaniqClient, ProxyRefusedError } from "../../src/transport/paniq/client.ts";
import { upstreamHandler } from "../../src/transport/paniq/upstream.ts";
import { SystemDialer } from "../../src/common/dialer.ts";
import { getLogger } from "../../src/common/log.ts";
import { exampleProfile } from "./_helpers.ts";
import { randomBytes } from "../../src/protocol/paniq/random.ts";

async function readAll(s: { read(p: Uint8Array): Promise<number | null> }): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await s.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function withTunnel(
  obf: Record<string, unknown>,
  fn: (ctx: {
    client: PaniqClient;
    server: PaniqServer;
    echoPort: number;
  }) => Promise<void>,
) {
  const log = getLogger("test");
  // TCP echo origin that half-closes after echoing.
  const origin = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of origin) {
      (async () => {
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await c.read(buf).catch(() => null);
          if (n === null) break;
          await c.write(buf.subarray(0, n));
        }
        await c.closeWrite().catch(() => {});
        c.close();
      })();
    }
  })().catch(() => {});
  const p = parseProfile(
    exampleProfile({ rate_limit_pps: 0, ...obf }, { preamble_delay_ms: 0, preamble_jitter_ms: 0 }),
  );
  const sm = new PaniqMetrics("proxy");
  const server = await PaniqServer.listen(resolveServer(p), {
    hostname: "127.0.0.1",
    port: 0,
    metrics: sm,
    log,
    handler: upstreamHandler({
      dialer: new SystemDialer(),
      dialTimeoutMs: 2000,
      idleTimeoutMs: 10_000,
      metrics: sm,
    }),
  });
  p.proxy_addr = `127.0.0.1:${server.addr.port}`;
  const client = new PaniqClient(resolveClient(p), {
    metrics: new PaniqMetrics("socks"),
    log,
    serverCertificateHashes: [server.certificateHash],
  });
  try {
    await fn({ client, server, echoPort: (origin.addr as Deno.NetAddr).port });
  } finally {
    client.close();
    server.close();
    origin.close();
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const replay of [false, true]) {
  Deno.test({
    name: `PaniqClient ↔ PaniqServer over the envelope (transport_replay=${replay}): echo with half-close`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      withTunnel({ transport_replay: replay }, async ({ client, server, echoPort }) => {
        const t0 = performance.now();
        const s = await client.open({ host: "127.0.0.1", port: echoPort });
        const firstByteMs = performance.now() - t0;
        const data = randomBytes(300_000);
        const reading = readAll(s);
        for (let o = 0; o < data.length; o += 16384) await s.write(data.subarray(o, o + 16384));
        await s.closeWrite();
        assertEquals(await reading, data);
        s.close();
        assert(firstByteMs < 2000, `handshake took ${firstByteMs} ms`);
        assertEquals(server.tunnel.readyPeers, 1);
        // A refused upstream fails only that session; the connection stays pooled.
        await assertRejects(() => client.open({ host: "127.0.0.1", port: 1 }), /status 1/);
        assert(client.connected);
        const s2 = await client.open({ host: "127.0.0.1", port: echoPort });
        await s2.write(new Uint8Array([1, 2, 3]));
        await s2.closeWrite();
        assertEquals(await readAll(s2), new Uint8Array([1, 2, 3]));
        s2.close();
      }),
  });
}

Deno.test({
  name: "PaniqClient reports ProxyRefusedError for an unreachable upstream",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTunnel({}, async ({ client }) => {
      const err = await client.open({ host: "127.0.0.1", port: 1 }).catch((e) => e);
      assert(err instanceof ProxyRefusedError);
    }),
});
