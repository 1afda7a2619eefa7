/**
 * Switchyard client ↔ Switchyard server with sing-mux multiplexing (smux, yamux and h2mux, with
 * and without padding) over each proxy protocol, including UDP (packet-address streams) and many
 * parallel connections sharing one multiplexed connection.
 */
import { assertEquals } from "../_util/assert.ts";
import { curl, startOrigin } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import {
  assertBulk,
  assertCurl,
  assertUdp,
  makeCert,
  type PairCase,
  startSwitchyardPair,
} from "./_proxy_peers.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";

Deno.test("switchyard pair with multiplex smux/yamux/h2mux (± padding) over vmess, vless, trojan, shadowsocks", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "sy-mux-" });
  const cert = await makeCert(dir);
  const origin = startOrigin();
  const echo = startUdpEcho();
  const tlsIn = { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath };
  const tlsOut = { enabled: true, server_name: "localhost", certificate_path: cert.certPath };
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const cases: PairCase[] = [
    ["vmess-smux", { type: "vmess", users: [{ uuid: UUID }], multiplex: { enabled: true } }, {
      type: "vmess",
      uuid: UUID,
      multiplex: { enabled: true, protocol: "smux", max_connections: 1 },
    }],
    ["vless-yamux", { type: "vless", users: [{ uuid: UUID }], multiplex: { enabled: true } }, {
      type: "vless",
      uuid: UUID,
      multiplex: { enabled: true, protocol: "yamux", max_streams: 16 },
    }],
    ["trojan-tls-yamux-padding", {
      type: "trojan",
      users: [{ password: "p" }],
      tls: tlsIn,
      multiplex: { enabled: true, padding: true },
    }, {
      type: "trojan",
      password: "p",
      tls: tlsOut,
      multiplex: { enabled: true, protocol: "yamux", padding: true, max_connections: 2 },
    }],
    ["ss2022-smux-padding", {
      type: "shadowsocks",
      method: "2022-blake3-aes-128-gcm",
      password: key,
      multiplex: { enabled: true },
    }, {
      type: "shadowsocks",
      method: "2022-blake3-aes-128-gcm",
      password: key,
      multiplex: { enabled: true, protocol: "smux", padding: true, max_connections: 1 },
    }],
    ["vmess-grpc-yamux", {
      type: "vmess",
      users: [{ uuid: UUID }],
      transport: { type: "grpc", service_name: "g" },
      multiplex: { enabled: true },
    }, {
      type: "vmess",
      uuid: UUID,
      transport: { type: "grpc", service_name: "g" },
      multiplex: { enabled: true, protocol: "yamux", max_connections: 1 },
    }],
    ["vmess-h2mux", { type: "vmess", users: [{ uuid: UUID }], multiplex: { enabled: true } }, {
      type: "vmess",
      uuid: UUID,
      multiplex: { enabled: true, protocol: "h2mux", max_connections: 1 },
    }],
    // No protocol: h2mux, sing-box's default; padded both ways.
    ["ss-h2mux-default-padding", {
      type: "shadowsocks",
      method: "aes-128-gcm",
      password: "p",
      multiplex: { enabled: true, padding: true },
    }, {
      type: "shadowsocks",
      method: "aes-128-gcm",
      password: "p",
      multiplex: { enabled: true, padding: true, max_streams: 4 },
    }],
    ["trojan-tls-h2mux", {
      type: "trojan",
      users: [{ password: "p" }],
      tls: tlsIn,
      multiplex: { enabled: true },
    }, {
      type: "trojan",
      password: "p",
      tls: tlsOut,
      multiplex: { enabled: true, protocol: "h2mux", min_streams: 2, max_connections: 2 },
    }],
    // The server demands padding; this client does not pad, so nothing gets through.
    ["refused-unpadded", {
      type: "vless",
      users: [{ uuid: UUID }],
      multiplex: { enabled: true, padding: true },
    }, { type: "vless", uuid: UUID, multiplex: { enabled: true, protocol: "smux" } }],
  ];
  const pair = await startSwitchyardPair(cases);
  const { cp, logs } = pair;
  try {
    for (const [i, [name]] of cases.entries()) {
      if (name === "refused-unpadded") continue;
      await t.step(name, async () => {
        await assertCurl(cp[i], origin.port, name, logs);
        await Promise.all([
          assertBulk(cp[i], origin.port, 4 << 20, name),
          assertBulk(cp[i], origin.port, 3 << 20, name),
          ...[0, 1, 2, 3, 4, 5, 6, 7].map(() => assertCurl(cp[i], origin.port, `${name} parallel`, logs)),
        ]);
        await assertUdp(cp[i], echo.port, name);
      });
    }
    await t.step("a server that requires padding refuses an unpadded client", async () => {
      const i = cases.length - 1;
      const r = await curl([
        "-s",
        "--max-time",
        "5",
        "--socks5-hostname",
        `127.0.0.1:${cp[i]}`,
        `http://127.0.0.1:${origin.port}/hello.txt`,
      ]);
      assertEquals(r.stdout, "", "no body through a refused multiplex session");
    });
  } finally {
    await pair.stop();
    echo.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
