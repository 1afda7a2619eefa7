/**
 * VMess extensions: authenticated length (option 0x10, sing-vmess `chunk_length_aead.go`) checked
 * against an independent AES-GCM computation with @noble/ciphers, and the `packetaddr` UDP codec.
 */
import fc from "fast-check";
import { gcm } from "@noble/ciphers/aes.js";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ProtocolError } from "../../src/common/errors.ts";
import { VmessBodyDecoder, VmessBodyEncoder } from "../../src/protocol/vmess/body.ts";
import {
  OPT_AUTHENTICATED_LENGTH,
  OPT_CHUNK_MASKING,
  OPT_CHUNK_STREAM,
  OPT_GLOBAL_PADDING,
  SECURITY,
} from "../../src/protocol/vmess/header.ts";
import { kdf16 } from "../../src/protocol/vmess/kdf.ts";
import { decodePacketAddr, encodePacketAddr } from "../../src/protocol/vmess/packetaddr.ts";
import { clientSecurity } from "../../src/protocol/vmess/protocol.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const key = new Uint8Array(16).map((_, i) => i + 1);
const iv = new Uint8Array(16).map((_, i) => 0xa0 + i);
const OPT = OPT_CHUNK_STREAM | OPT_CHUNK_MASKING | OPT_AUTHENTICATED_LENGTH;

Deno.test("authenticated length: sealed size under KDF(key, auth_len) with its own nonce counter", () => {
  const p = { security: SECURITY["aes-128-gcm"], option: OPT, key, iv, requestKey: key, requestIv: iv };
  const enc = new VmessBodyEncoder(p);
  const data = new TextEncoder().encode("hello");
  const wire = enc.encode(data).slice();
  const wire2 = enc.encode(data).slice();
  const nonce = (n: number) => new Uint8Array([0, n, ...iv.subarray(2, 12)]);
  const lenKey = kdf16(key, "auth_len");
  // size field = sealed payload (5 + 16) − 16 = 5.
  assertEquals(hex(wire.subarray(0, 18)), hex(gcm(lenKey, nonce(0)).encrypt(new Uint8Array([0, 5]))));
  assertEquals(hex(wire.subarray(18)), hex(gcm(key, nonce(0)).encrypt(data)));
  assertEquals(hex(wire2.subarray(0, 18)), hex(gcm(lenKey, nonce(1)).encrypt(new Uint8Array([0, 5]))));
  assertEquals(hex(wire2.subarray(18)), hex(gcm(key, nonce(1)).encrypt(data)));
  assertEquals(clientSecurity("aes-128-gcm", false, true).option, OPT);
  assertEquals(clientSecurity("none", false, true).option & OPT_AUTHENTICATED_LENGTH, 0);
});

Deno.test("authenticated length round-trips for aes/chacha, with global padding, fed byte by byte; tampering fails", () => {
  for (const security of [SECURITY["aes-128-gcm"], SECURITY["chacha20-poly1305"]]) {
    for (const option of [OPT, OPT | OPT_GLOBAL_PADDING]) {
      // The response direction: body key/iv differ from the request key/iv that key the sizes.
      const bodyKey = key.map((x) => x ^ 0x55), bodyIv = iv.map((x) => x ^ 0x33);
      const p = { security, option, key: bodyKey, iv: bodyIv, requestKey: key, requestIv: iv };
      const enc = new VmessBodyEncoder(p);
      const msgs = [new Uint8Array(1), new Uint8Array(40000).fill(7), new Uint8Array(3).fill(9)];
      const wire = [...msgs.map((m) => enc.encode(m).slice()), enc.finish()!];
      const dec = new VmessBodyDecoder(p);
      const q = new ByteQueue(8);
      let got = 0;
      for (const w of wire) {
        for (const b of w) {
          q.push(new Uint8Array([b]));
          for (let c = dec.decode(q); c; c = dec.decode(q)) got += c.length;
        }
      }
      assertEquals(got, 40004);
      assertEquals(dec.done, true);
      const bad = new VmessBodyEncoder(p).encode(new Uint8Array(10)).slice();
      bad[3] ^= 1;
      const q2 = new ByteQueue();
      q2.push(bad);
      assertThrows(() => new VmessBodyDecoder(p).decode(q2), ProtocolError);
    }
  }
});

Deno.test("packetaddr codec: ATYP 1/2, address, big-endian port; domains refused", () => {
  const d = new Uint8Array([0x78]);
  assertEquals(hex(encodePacketAddr({ host: "127.0.0.1", port: 53 }, d)), "017f000001003578");
  assertEquals(hex(encodePacketAddr({ host: "::1", port: 443 }, d)), "02" + "0".repeat(31) + "101bb78");
  const p = decodePacketAddr(new Uint8Array([2, ...new Uint8Array(15), 1, 1, 0xbb, 0x61]));
  assertEquals([p.addr.host, p.addr.port, hex(p.data)], ["::1", 443, "61"]);
  assertThrows(() => encodePacketAddr({ host: "example.com", port: 1 }, d), ProtocolError);
  assertThrows(() => decodePacketAddr(new Uint8Array([3, 1])), ProtocolError);
  assertThrows(() => decodePacketAddr(new Uint8Array([1, 1, 2])), ProtocolError);
});

Deno.test("fuzz: packetaddr and authenticated-length decoders never crash on random bytes", () => {
  const p = { security: SECURITY["aes-128-gcm"], option: OPT, key, iv, requestKey: key, requestIv: iv };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      try {
        decodePacketAddr(b);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
      const q = new ByteQueue();
      q.push(b);
      try {
        new VmessBodyDecoder(p).decode(q);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
