/**
 * Switchyard client ↔ Switchyard server for the Shadowsocks extras no Debian peer speaks:
 * method `none`, UDP over TCP (v2 and legacy v1; the servers listen on TCP only, so UDP has no
 * other way through), the same through a `socks` outbound, and a 2022 relay (`destinations`)
 * forwarding to a second server. Each checks curl, a bulk download, a UDP echo and a UDP
 * association that reaches two peers.
 */
import { freePort, startOrigin } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import {
  assertBulk,
  assertCurl,
  assertUdp,
  assertUdpTwoPeers,
  type PairCase,
  startSwitchyardPair,
} from "./_proxy_peers.ts";

const key16 = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));

Deno.test("switchyard pair: shadowsocks none, udp_over_tcp (v2, v1, socks) and a 2022 relay", async (t) => {
  const origin = startOrigin();
  const echo = startUdpEcho();
  const echo2 = startUdpEcho();
  const relayKey = key16(), serverKey = key16(), otherKey = key16(), k2022 = key16();
  const finalPort = freePort();
  const ss2022 = "2022-blake3-aes-128-gcm";
  const cases: PairCase[] = [
    ["none", { type: "shadowsocks", method: "none" }, { type: "shadowsocks", method: "none" }],
    ["aead-uot-v2", { type: "shadowsocks", network: "tcp", method: "aes-128-gcm", password: "p" }, {
      type: "shadowsocks",
      method: "aes-128-gcm",
      password: "p",
      udp_over_tcp: true,
    }],
    ["2022-uot-v1", { type: "shadowsocks", network: "tcp", method: ss2022, password: k2022 }, {
      type: "shadowsocks",
      method: ss2022,
      password: k2022,
      udp_over_tcp: { enabled: true, version: 1 },
    }],
    ["socks-uot", { type: "socks" }, { type: "socks", udp_over_tcp: { enabled: true, version: 2 } }],
    ["relay", {
      type: "shadowsocks",
      method: ss2022,
      password: relayKey,
      destinations: [
        { name: "other", server: "127.0.0.1", server_port: 9, password: otherKey },
        { name: "final", server: "127.0.0.1", server_port: finalPort, password: serverKey },
      ],
    }, { type: "shadowsocks", method: ss2022, password: `${relayKey}:${serverKey}` }],
  ];
  // The relay's second hop: an ordinary single-user 2022 server.
  const pair = await startSwitchyardPair(cases, {
    inbounds: [
      {
        type: "shadowsocks",
        tag: "final",
        listen: "127.0.0.1",
        listen_port: finalPort,
        method: ss2022,
        password: serverKey,
      },
    ],
    ports: [finalPort],
  });
  const { cp, logs } = pair;
  try {
    for (const [i, [name]] of cases.entries()) {
      await t.step(name, async () => {
        await assertCurl(cp[i], origin.port, name, logs);
        await assertBulk(cp[i], origin.port, 4 << 20, name);
        await assertUdp(cp[i], echo.port, name);
        await assertUdpTwoPeers(cp[i], [echo.port, echo2.port], name);
      });
    }
  } finally {
    await pair.stop();
    echo.close();
    echo2.close();
    await origin.close();
  }
});
