/**
 * Interop with trojan-gfw 1.16 (`trojan`): the Switchyard outbound against a trojan server
 * (TLS with the server certificate pinned), a trojan client against the Switchyard inbound,
 * and the inbound's fallback: a non-trojan TLS client reaches the fallback origin.
 */
import { assertEquals } from "../_util/assert.ts";
import { curl, freePort, HELLO, requireTool, startOrigin, startSwitchyard } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import { assertBulk, assertCurl, assertUdp, makeCert, startPeer } from "./_proxy_peers.ts";

const trojanArgs = (p: string) => ["-c", p];

Deno.test({
  name: "switchyard trojan outbound interoperates with a trojan-gfw server",
  ignore: !requireTool("trojan", "trojan"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sy-trojan-" });
    const cert = await makeCert(dir);
    const origin = startOrigin();
    const echo = startUdpEcho();
    const tp = freePort();
    const peer = await startPeer(
      "trojan",
      trojanArgs,
      {
        run_type: "server",
        local_addr: "127.0.0.1",
        local_port: tp,
        remote_addr: "127.0.0.1",
        remote_port: origin.port,
        password: ["tpass"],
        log_level: 2,
        ssl: { cert: cert.certPath, key: cert.keyPath, alpn: ["http/1.1"] },
      },
      dir,
      "trojan_server.json",
      [tp],
    );
    const mixed = freePort();
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: mixed }],
      outbounds: [{
        type: "trojan",
        tag: "trojan",
        server: "127.0.0.1",
        server_port: tp,
        password: "tpass",
        tls: { enabled: true, server_name: "localhost", certificate: cert.cert.trim().split("\n") },
      }],
    }, [mixed]);
    try {
      await assertCurl(mixed, origin.port, "trojan-gfw server", () => sy.output() + peer.output());
      await assertBulk(mixed, origin.port, 4 << 20, "trojan-gfw server");
      await assertUdp(mixed, echo.port, "trojan-gfw server");
    } finally {
      await sy.stop();
      await peer.stop();
      echo.close();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a trojan-gfw client interoperates with the switchyard trojan inbound; other TLS clients get the fallback",
  ignore: !requireTool("trojan", "trojan"),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "sy-trojan-in-" });
    const cert = await makeCert(dir);
    const origin = startOrigin();
    const echo = startUdpEcho();
    const sp = freePort();
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: [{
        type: "trojan",
        tag: "trojan",
        listen: "127.0.0.1",
        listen_port: sp,
        users: [{ name: "a", password: "tpass" }],
        tls: { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath },
        fallback: { server: "127.0.0.1", server_port: origin.port },
      }],
      outbounds: [{ type: "direct", tag: "direct" }],
    }, [sp]);
    const local = freePort();
    const peer = await startPeer(
      "trojan",
      trojanArgs,
      {
        run_type: "client",
        local_addr: "127.0.0.1",
        local_port: local,
        remote_addr: "127.0.0.1",
        remote_port: sp,
        password: ["tpass"],
        log_level: 2,
        ssl: { verify: false, verify_hostname: false, sni: "localhost" },
      },
      dir,
      "trojan_client.json",
      [local],
    );
    try {
      await t.step("trojan client", async () => {
        await assertCurl(local, origin.port, "trojan-gfw client", () => sy.output() + peer.output());
        await assertBulk(local, origin.port, 4 << 20, "trojan-gfw client");
        await assertUdp(local, echo.port, "trojan-gfw client");
      });
      await t.step("plain HTTPS client reaches the fallback", async () => {
        const r = await curl(["-k", `https://127.0.0.1:${sp}/hello.txt`]);
        assertEquals(r.stdout, HELLO, `fallback: rc ${r.code} ${r.stderr}`);
      });
    } finally {
      await peer.stop();
      await sy.stop();
      echo.close();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
