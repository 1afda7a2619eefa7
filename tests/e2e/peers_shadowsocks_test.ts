/**
 * Interop with shadowsocks-libev 3.3.5 (`ss-server`, `ss-local`) in both directions for the
 * AEAD ciphers, plus hostile input against the Switchyard inbound: truncated headers, wrong
 * keys and replayed salts get no reply and leave the server working.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  freePort,
  requireTool,
  spawnDaemon,
  startOrigin,
  startSwitchyard,
  waitForPort,
} from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import { assertBulk, assertCurl, assertUdp } from "./_proxy_peers.ts";
import { ShadowsocksAeadEncoder } from "../../src/protocol/shadowsocks/aead_stream.ts";
import { lookupMethod, masterKey } from "../../src/protocol/shadowsocks/method.ts";
import { encodeSocksAddr } from "../../src/common/socks_addr.ts";

const METHODS = ["aes-128-gcm", "aes-256-gcm", "chacha20-ietf-poly1305", "xchacha20-ietf-poly1305"];

Deno.test({
  name: "switchyard shadowsocks outbound interoperates with ss-server for every AEAD cipher",
  ignore: !requireTool("ss-server", "shadowsocks-libev"),
  fn: async (t) => {
    const origin = startOrigin();
    const echo = startUdpEcho();
    const servers = METHODS.map((m) => {
      const port = freePort();
      return {
        m,
        port,
        d: spawnDaemon("ss-server", ["-s", "127.0.0.1", "-p", String(port), "-k", "sspass", "-m", m, "-u"]),
      };
    });
    for (const s of servers) await waitForPort(s.port);
    const ports = METHODS.map(() => freePort());
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: METHODS.map((m, i) => ({
        type: "mixed",
        tag: `in-${m}`,
        listen: "127.0.0.1",
        listen_port: ports[i],
      })),
      outbounds: servers.map((s) => ({
        type: "shadowsocks",
        tag: s.m,
        server: "127.0.0.1",
        server_port: s.port,
        method: s.m,
        password: "sspass",
      })),
      route: { rules: METHODS.map((m) => ({ inbound: [`in-${m}`], outbound: m })) },
    }, ports);
    try {
      for (const [i, m] of METHODS.entries()) {
        await t.step(m, async () => {
          await assertCurl(ports[i], origin.port, m, () => sy.output() + servers[i].d.output());
          await assertBulk(ports[i], origin.port, 4 << 20, m);
          await assertUdp(ports[i], echo.port, m);
        });
      }
    } finally {
      await sy.stop();
      for (const s of servers) await s.d.stop();
      echo.close();
      await origin.close();
    }
  },
});

async function expectSilence(port: number, payload: Uint8Array): Promise<void> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(payload);
    const buf = new Uint8Array(64);
    const r = await Promise.race([
      c.read(buf).then((n) => ({ n }), () => ({ n: null })),
      new Promise<{ n: "silent" }>((res) => setTimeout(() => res({ n: "silent" }), 400)),
    ]);
    assertEquals(r.n, "silent", "a bad handshake must get neither bytes nor an early close");
  } finally {
    c.close();
  }
}

Deno.test({
  name: "ss-local interoperates with the switchyard shadowsocks inbound, which stays silent on hostile input",
  ignore: !requireTool("ss-local", "shadowsocks-libev"),
  fn: async (t) => {
    const origin = startOrigin();
    const echo = startUdpEcho();
    const methods = ["aes-128-gcm", "chacha20-ietf-poly1305", "xchacha20-ietf-poly1305"];
    const sp = methods.map(() => freePort());
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: methods.map((m, i) => ({
        type: "shadowsocks",
        tag: m,
        listen: "127.0.0.1",
        listen_port: sp[i],
        method: m,
        password: "sspass",
      })),
      outbounds: [{ type: "direct", tag: "direct" }],
    }, sp);
    const locals = methods.map((m, i) => {
      const port = freePort();
      const d = spawnDaemon("ss-local", [
        "-s",
        "127.0.0.1",
        "-p",
        String(sp[i]),
        "-l",
        String(port),
        "-b",
        "127.0.0.1",
        "-k",
        "sspass",
        "-m",
        m,
        "-u",
      ]);
      return { port, d };
    });
    for (const l of locals) await waitForPort(l.port);
    try {
      for (const [i, m] of methods.entries()) {
        await t.step(`ss-local ${m}`, async () => {
          await assertCurl(locals[i].port, origin.port, m, () => sy.output() + locals[i].d.output());
          await assertBulk(locals[i].port, origin.port, 4 << 20, m);
          await assertUdp(locals[i].port, echo.port, m);
        });
      }
      const method = lookupMethod("aes-128-gcm");
      const request = () => {
        const enc = new ShadowsocksAeadEncoder(method, masterKey(method, "sspass"));
        const addr = encodeSocksAddr({ host: "127.0.0.1", port: origin.port });
        const get = new TextEncoder().encode("GET /hello.txt HTTP/1.0\r\n\r\n");
        const all = new Uint8Array(addr.length + get.length);
        all.set(addr);
        all.set(get, addr.length);
        return enc.encode(all).slice();
      };
      await t.step("truncated header, wrong key and garbage get no reply", async () => {
        await expectSilence(sp[0], request().subarray(0, 20));
        const wrong = new ShadowsocksAeadEncoder(method, masterKey(method, "wrong")).encode(encodeSocksAddr({
          host: "127.0.0.1",
          port: origin.port,
        })).slice();
        await expectSilence(sp[0], wrong);
        await expectSilence(sp[0], crypto.getRandomValues(new Uint8Array(200)));
      });
      await t.step("a replayed salt gets no reply; a fresh request still works", async () => {
        const first = request();
        const c = await Deno.connect({ hostname: "127.0.0.1", port: sp[0] });
        await c.write(first);
        const buf = new Uint8Array(4096);
        const n = await c.read(buf);
        assert(n !== null && n > 0, "the original request must be answered");
        c.close();
        await expectSilence(sp[0], first);
        await assertCurl(locals[0].port, origin.port, "after hostile input", () => sy.output());
      });
    } finally {
      for (const l of locals) await l.d.stop();
      await sy.stop();
      echo.close();
      await origin.close();
    }
  },
});
