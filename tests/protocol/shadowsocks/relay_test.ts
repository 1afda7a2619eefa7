/**
 * Shadowsocks 2022 relay (`destinations`): the identity header checked against an independent
 * computation (@noble BLAKE3 derive-key and AES-ECB, per SIP022 and sing-shadowsocks
 * `relay.go`), and the forwarded bytes opened by a plain single-user server.
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { ecb } from "@noble/ciphers/aes.js";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import { lookupMethod } from "../../../src/protocol/shadowsocks/method.ts";
import { Ss2022Relay } from "../../../src/protocol/shadowsocks/relay.ts";
import { Ss2022ClientEncoder, Ss2022ServerDecoder } from "../../../src/protocol/shadowsocks/ss2022.ts";
import { openSs2022Udp, sealSs2022Udp } from "../../../src/protocol/shadowsocks/ss2022_udp.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const m = lookupMethod("2022-blake3-aes-128-gcm");
const ipsk = new Uint8Array(16).map((_, i) => i + 1);
const keyA = new Uint8Array(16).fill(0xa0);
const keyB = new Uint8Array(16).fill(0xb0);
const NOW = 1_800_000_000;

Deno.test("Ss2022Relay.openTcp() finds the destination from an independently built identity header", () => {
  const salt = new Uint8Array(16).fill(7);
  const subkey = blake3(new Uint8Array([...ipsk, ...salt]), {
    context: new TextEncoder().encode("shadowsocks 2022 identity subkey"),
    dkLen: 16,
  });
  const eih = ecb(subkey, { disablePadding: true }).encrypt(blake3(keyB).subarray(0, 16));
  const rest = new Uint8Array([1, 2, 3]);
  const relay = new Ss2022Relay(m, ipsk, [keyA, keyB]);
  const r = relay.openTcp(new Uint8Array([...salt, ...eih, ...rest]));
  assertEquals(r.index, 1);
  assertEquals(hex(r.forward), hex(new Uint8Array([...salt, ...rest])));
  eih[0] ^= 1;
  assertThrows(
    () => relay.openTcp(new Uint8Array([...salt, ...eih, ...rest])),
    ProtocolError,
    "unknown destination",
  );
  assertThrows(() => relay.openTcp(salt), ProtocolError, "truncated");
  assertThrows(
    () => new Ss2022Relay(lookupMethod("2022-blake3-chacha20-poly1305"), new Uint8Array(32), []),
    RangeError,
  );
});

Deno.test("a client request through the relay opens at a single-user server with the destination key", () => {
  const ce = new Ss2022ClientEncoder(m, keyB, [ipsk], { host: "example.com", port: 443 }, { now: () => NOW });
  const wire = ce.encode(new TextEncoder().encode("hi")).slice();
  const { index, forward } = new Ss2022Relay(m, ipsk, [keyA, keyB]).openTcp(wire);
  assertEquals(index, 1);
  const sd = new Ss2022ServerDecoder(m, [{ name: "", psk: keyB }], null, () => NOW);
  const q = new ByteQueue();
  q.push(forward);
  assertEquals(new TextDecoder().decode(sd.decode(q)!), "hi");
  assertEquals(sd.destination, { host: "example.com", port: 443 });
});

Deno.test("Ss2022Relay.openUdp() re-encrypts the separate header for the destination and drops the EIH", () => {
  const sessionId = new Uint8Array(8).fill(0x5a);
  const pkt = sealSs2022Udp(m, keyA, {
    sessionId,
    packetId: 3n,
    addr: { host: "1.1.1.1", port: 53 },
    data: new Uint8Array([9]),
  }, {
    server: false,
    now: NOW,
    ipsk,
  });
  const r = new Ss2022Relay(m, ipsk, [keyA, keyB]).openUdp(pkt);
  assertEquals([r.index, r.session, r.forward.length], [0, hex(sessionId), pkt.length - 16]);
  const p = openSs2022Udp(m, [{ name: "", psk: keyA }], r.forward, { server: true, now: NOW });
  assertEquals([hex(p.sessionId), p.packetId, p.addr.host, hex(p.data)], [
    hex(sessionId),
    3n,
    "1.1.1.1",
    "09",
  ]);
  assertThrows(() => new Ss2022Relay(m, ipsk, [keyB]).openUdp(pkt), ProtocolError, "unknown destination");
});
