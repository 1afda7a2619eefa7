/**
 * Switchyard client ↔ Switchyard server for the VMess options no Debian peer speaks:
 * `authenticated_length` (aes-128-gcm with global padding, chacha20-poly1305) and
 * `packet_encoding` packetaddr and xudp (VMess and VLESS), alone and over ws and multiplex.
 * Address-carrying encodings reach two UDP peers over one SOCKS5 association.
 */
import { startOrigin } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import {
  assertBulk,
  assertCurl,
  assertUdp,
  assertUdpTwoPeers,
  type PairCase,
  startSwitchyardPair,
} from "./_proxy_peers.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";

Deno.test("switchyard pair: vmess authenticated_length and packet_encoding packetaddr/xudp", async (t) => {
  const origin = startOrigin();
  const echo = startUdpEcho();
  const echo2 = startUdpEcho();
  const inb = { type: "vmess", users: [{ uuid: UUID }] };
  const cases: PairCase[] = [
    ["authlen-aes-padding", inb, {
      type: "vmess",
      uuid: UUID,
      security: "aes-128-gcm",
      global_padding: true,
      authenticated_length: true,
    }],
    ["authlen-chacha", inb, {
      type: "vmess",
      uuid: UUID,
      security: "chacha20-poly1305",
      authenticated_length: true,
    }],
    ["packetaddr", inb, { type: "vmess", uuid: UUID, packet_encoding: "packetaddr" }],
    ["packetaddr-authlen-ws", { ...inb, transport: { type: "ws", path: "/w" } }, {
      type: "vmess",
      uuid: UUID,
      authenticated_length: true,
      packet_encoding: "packetaddr",
      transport: { type: "ws", path: "/w" },
    }],
    ["vless-packetaddr", { type: "vless", users: [{ uuid: UUID }] }, {
      type: "vless",
      uuid: UUID,
      packet_encoding: "packetaddr",
    }],
    ["packetaddr-yamux", { ...inb, multiplex: { enabled: true } }, {
      type: "vmess",
      uuid: UUID,
      packet_encoding: "packetaddr",
      multiplex: { enabled: true, protocol: "yamux" },
    }],
    ["xudp", inb, { type: "vmess", uuid: UUID, packet_encoding: "xudp" }],
    ["xudp-chacha-authlen-ws", { ...inb, transport: { type: "ws", path: "/x" } }, {
      type: "vmess",
      uuid: UUID,
      security: "chacha20-poly1305",
      authenticated_length: true,
      packet_encoding: "xudp",
      transport: { type: "ws", path: "/x" },
    }],
    // VLESS defaults to xudp when packet_encoding is absent (sing-box).
    ["vless-xudp-default", { type: "vless", users: [{ uuid: UUID }] }, { type: "vless", uuid: UUID }],
  ];
  // Encodings whose datagrams carry addresses; the others stay bound to the first peer.
  const fullCone = new Set([
    "packetaddr",
    "vless-packetaddr",
    "packetaddr-yamux",
    "xudp",
    "xudp-chacha-authlen-ws",
    "vless-xudp-default",
  ]);
  const pair = await startSwitchyardPair(cases);
  const { cp, logs } = pair;
  try {
    for (const [i, [name]] of cases.entries()) {
      await t.step(name, async () => {
        await assertCurl(cp[i], origin.port, name, logs);
        await assertBulk(cp[i], origin.port, 4 << 20, name);
        await assertUdp(cp[i], echo.port, name);
        await assertUdp(cp[i], echo.port, `${name}-again`);
        if (fullCone.has(name)) await assertUdpTwoPeers(cp[i], [echo.port, echo2.port], name);
      });
    }
  } finally {
    await pair.stop();
    echo.close();
    echo2.close();
    await origin.close();
  }
});
