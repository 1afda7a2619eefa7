import fc from "fast-check";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import { type AeadName, createAead } from "../../../src/common/aead.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import {
  AEAD_MAX_PAYLOAD,
  ShadowsocksAeadDecoder,
  ShadowsocksAeadEncoder,
} from "../../../src/protocol/shadowsocks/aead_stream.ts";
import {
  evpBytesToKey,
  incrementNonce,
  lookupMethod,
  masterKey,
  sessionKey,
} from "../../../src/protocol/shadowsocks/method.ts";
import { openUdp, sealUdp } from "../../../src/protocol/shadowsocks/udp.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("evpBytesToKey() matches OpenSSL EVP_BytesToKey (openssl enc -md md5 -nosalt -P)", () => {
  assertEquals(hex(evpBytesToKey("sspass", 16)), "447189abd7a5b4bdc89e98f6e6fa9ea8");
  assertEquals(
    hex(evpBytesToKey("sspass", 32)),
    "447189abd7a5b4bdc89e98f6e6fa9ea8f4363ee90a2d9b952def20c747ebb704",
  );
});

Deno.test("HKDF-SHA1 matches RFC 5869 test case 4 (the subkey derivation primitive)", () => {
  const okm = hkdf(
    sha1,
    new Uint8Array(11).fill(0x0b),
    unhex("000102030405060708090a0b0c"),
    unhex("f0f1f2f3f4f5f6f7f8f9"),
    42,
  );
  assertEquals(
    hex(okm),
    "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896",
  );
});

Deno.test("incrementNonce() counts little-endian with carry", () => {
  const n = new Uint8Array([0xff, 0xff, 0, 0]);
  incrementNonce(n);
  assertEquals(Array.from(n), [0, 0, 1, 0]);
});

Deno.test("AEAD backends agree: OpenSSL FFI and node:crypto produce identical output", () => {
  for (const name of ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"] as AeadName[]) {
    const key = crypto.getRandomValues(new Uint8Array(name === "aes-128-gcm" ? 16 : 32));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const pt = crypto.getRandomValues(new Uint8Array(1000));
    const aad = new Uint8Array([1, 2, 3]);
    const a = createAead(name, key), b = createAead(name, key, { backend: "node:crypto" });
    const ca = new Uint8Array(1016), cb = new Uint8Array(1016);
    a.sealTo(ca, nonce, pt, aad);
    b.sealTo(cb, nonce, pt, aad);
    assertEquals(hex(ca), hex(cb), name);
    const out = new Uint8Array(1000);
    assertEquals(b.openTo(out, nonce, ca, aad), 1000);
    assertEquals(hex(out), hex(pt));
    ca[5] ^= 1;
    assertEquals(a.openTo(out, nonce, ca, aad), -1, `${name}: forged ciphertext must fail`);
  }
});

Deno.test("AES-128-GCM known answer (NIST GCM test case 2: zero key, zero IV, one zero block)", () => {
  const out = new Uint8Array(32);
  createAead("aes-128-gcm", new Uint8Array(16)).sealTo(out, new Uint8Array(12), new Uint8Array(16));
  assertEquals(hex(out), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
});

function decodeAll(dec: ShadowsocksAeadDecoder, wire: Uint8Array, cuts: number[]): Uint8Array {
  const q = new ByteQueue(1024);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < wire.length).sort((a, b) => a - b), wire.length]) {
    q.push(wire.subarray(last, c));
    last = c;
    for (let p = dec.decode(q); p; p = dec.decode(q)) parts.push(p.slice());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("shadowsocks AEAD stream round-trips any data split at any points (property)", () => {
  for (const name of ["aes-128-gcm", "chacha20-ietf-poly1305", "xchacha20-ietf-poly1305"]) {
    const m = lookupMethod(name);
    const key = masterKey(m, "pw");
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40000 }), { maxLength: 4 }),
        fc.array(fc.nat(200000)),
        (writes, cuts) => {
          const enc = new ShadowsocksAeadEncoder(m, key);
          const chunks = writes.map((w) => enc.encode(w).slice());
          const wire = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let o = 0;
          for (const c of chunks) {
            wire.set(c, o);
            o += c.length;
          }
          const plain = decodeAll(new ShadowsocksAeadDecoder(m, key), wire, cuts);
          const expect = writes.reduce((s, w) => s + hex(w), "");
          return hex(plain) === expect;
        },
      ),
      { numRuns: 25 },
    );
  }
});

Deno.test("shadowsocks AEAD framing: salt, then sealed length and payload with nonces 0 and 1", () => {
  const m = lookupMethod("aes-128-gcm");
  const key = masterKey(m, "sspass");
  const salt = new Uint8Array(16).fill(7);
  const wire = new ShadowsocksAeadEncoder(m, key, salt).encode(new TextEncoder().encode("hi")).slice();
  assertEquals(wire.length, 16 + 18 + 2 + 16);
  assertEquals(hex(wire.subarray(0, 16)), hex(salt));
  const aead = createAead("aes-128-gcm", sessionKey(m, key, salt));
  const len = new Uint8Array(2);
  assertEquals(aead.openTo(len, new Uint8Array(12), wire.subarray(16, 34)), 2);
  assertEquals(Array.from(len), [0, 2]);
  const body = new Uint8Array(2);
  assertEquals(aead.openTo(body, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), wire.subarray(34)), 2);
  assertEquals(new TextDecoder().decode(body), "hi");
});

Deno.test("shadowsocks encoder splits writes into chunks of at most 0x3FFF bytes", () => {
  const m = lookupMethod("chacha20-ietf-poly1305");
  const wire = new ShadowsocksAeadEncoder(m, masterKey(m, "x")).encode(
    new Uint8Array(AEAD_MAX_PAYLOAD * 2 + 1),
  );
  assertEquals(wire.length, 32 + 3 * 34 + AEAD_MAX_PAYLOAD * 2 + 1);
});

Deno.test("shadowsocks decoder rejects a wrong key, a flipped bit and an oversized length", () => {
  const m = lookupMethod("aes-256-gcm");
  const wire = new ShadowsocksAeadEncoder(m, masterKey(m, "a")).encode(new Uint8Array(100)).slice();
  assertThrows(() => decodeAll(new ShadowsocksAeadDecoder(m, masterKey(m, "b")), wire, []), ProtocolError);
  const flipped = wire.slice();
  flipped[60] ^= 0x80;
  assertThrows(() => decodeAll(new ShadowsocksAeadDecoder(m, masterKey(m, "a")), flipped, []), ProtocolError);
  // Truncated input is not an error, only "need more".
  const q = new ByteQueue();
  q.push(wire.subarray(0, 40));
  assertEquals(new ShadowsocksAeadDecoder(m, masterKey(m, "a")).decode(q), null);
});

Deno.test("shadowsocks decoder survives random garbage without hanging (fuzz)", () => {
  const m = lookupMethod("chacha20-ietf-poly1305");
  const key = masterKey(m, "k");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (junk) => {
      const q = new ByteQueue();
      q.push(junk);
      try {
        const dec = new ShadowsocksAeadDecoder(m, key);
        while (dec.decode(q)) { /* drain */ }
      } catch (e) {
        return e instanceof ProtocolError;
      }
      return true;
    }),
    { numRuns: 200 },
  );
});

Deno.test("shadowsocks UDP packets round-trip and forged ones are rejected", () => {
  const m = lookupMethod("aes-128-gcm");
  const key = masterKey(m, "p");
  const pkt = sealUdp(m, key, { host: "example.com", port: 53 }, new Uint8Array([1, 2, 3]));
  const p = openUdp(m, key, pkt);
  assertEquals(p.addr, { host: "example.com", port: 53 });
  assertEquals(Array.from(p.data), [1, 2, 3]);
  pkt[pkt.length - 1] ^= 1;
  assertThrows(() => openUdp(m, key, pkt), ProtocolError);
  assertThrows(() => openUdp(m, key, new Uint8Array(10)), ProtocolError);
  assert(sealUdp(m, key, { host: "::1", port: 1 }, new Uint8Array(0)).length === 16 + 19 + 16);
});

Deno.test("method none: UDP is a SOCKS5 address and the payload in the clear (sing-shadowsocks none.go)", () => {
  const none = lookupMethod("none");
  const p = sealUdp(none, masterKey(none, ""), { host: "1.2.3.4", port: 53 }, new Uint8Array([0xaa]));
  assertEquals(Array.from(p), [1, 1, 2, 3, 4, 0, 53, 0xaa]);
  assertEquals(openUdp(none, new Uint8Array(0), p), {
    addr: { host: "1.2.3.4", port: 53 },
    data: new Uint8Array([0xaa]),
  });
  assertThrows(() => openUdp(none, new Uint8Array(0), new Uint8Array([1, 1, 2])), ProtocolError);
});
