import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ProtocolError } from "../../src/common/errors.ts";
import {
  decodeGunMessage,
  encodeGunMessage,
  grpcPath,
  GunDecoder,
  GunEncoder,
  MAX_GUN_MESSAGE,
} from "../../src/transport/grpc/gun.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("gun message known answers: gRPC prefix + protobuf Hunk field 1", () => {
  // "hello": body = 0a 05 68656c6c6f (7 bytes), prefix = 00 00000007.
  assertEquals(hex(encodeGunMessage(new TextEncoder().encode("hello"))), "00000000070a0568656c6c6f");
  // 200 bytes: varint 200 = c8 01, body length 1 + 2 + 200 = 203 = 0xcb.
  const m = encodeGunMessage(new Uint8Array(200).fill(7));
  assertEquals(hex(m.subarray(0, 8)), "00000000cb0ac801");
  assertEquals(m.length, 5 + 203);
  // 16384 bytes: varint = 80 80 01.
  assertEquals(hex(encodeGunMessage(new Uint8Array(16384)).subarray(0, 9)), "00000040040a808001");
  assertEquals(hex(encodeGunMessage(new Uint8Array(0))), "00000000020a00");
});

Deno.test("gun service path is /<service_name>/Tun", () => {
  assertEquals(grpcPath("GunService"), "/GunService/Tun");
  assertEquals(grpcPath(""), "//Tun");
  assertEquals(grpcPath("a b"), "/a%20b/Tun");
});

Deno.test("gun decoder handles split input and several messages in one read", () => {
  const a = encodeGunMessage(new Uint8Array([1, 2, 3]));
  const b = encodeGunMessage(new Uint8Array(300).fill(9));
  const wire = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const q = new ByteQueue(16);
    const d = new GunDecoder();
    const out: number[] = [];
    q.push(wire.subarray(0, cut));
    for (let c = d.decode(q); c; c = d.decode(q)) out.push(...c);
    q.push(wire.subarray(cut));
    for (let c = d.decode(q); c; c = d.decode(q)) out.push(...c);
    assertEquals(out.length, 303);
    assertEquals(q.length, 0);
  }
});

Deno.test("gun decoder rejects compressed, oversized and inconsistent messages with byte offsets", () => {
  const e = (b: number[], off: number) => {
    const err = assertThrows(() => decodeGunMessage(new Uint8Array(b)), ProtocolError);
    assert(err.message.includes(`${off}`), err.message);
  };
  e([1, 0, 0, 0, 2, 0x0a, 0], 0); // compressed flag
  e([0, 0xff, 0, 0, 0], 1); // length over the limit
  e([0, 0, 0, 0, 2, 0x12, 0], 5); // field 2
  e([0, 0, 0, 0, 3, 0x0a, 5, 1], 6); // varint says 5, gRPC says 1 byte of data
  e([0, 0, 0, 0, 2, 0x0a, 0x80], 7); // unterminated varint
  assertEquals(decodeGunMessage(new Uint8Array([0, 0, 0, 0, 9, 0x0a])), null);
  assertThrows(() => encodeGunMessage(new Uint8Array(MAX_GUN_MESSAGE + 1)), RangeError);
});

Deno.test("gun encoder splits large writes into 1 MiB messages that decode back", () => {
  const data = new Uint8Array(2.5 * (1 << 20)).map((_, i) => i * 7);
  const q = new ByteQueue();
  q.push(new GunEncoder().encode(data));
  const d = new GunDecoder();
  const parts: Uint8Array[] = [];
  for (let c = d.decode(q); c; c = d.decode(q)) parts.push(c.slice());
  assertEquals(parts.map((p) => p.length), [1 << 20, 1 << 20, 1 << 19]);
  assertEquals(hex(new Uint8Array(parts.flatMap((p) => [...p])).subarray(0, 64)), hex(data.subarray(0, 64)));
});

Deno.test("fuzz: gun round-trips any data and never crashes on random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
    const r = decodeGunMessage(encodeGunMessage(data));
    return r !== null && hex(r.value) === hex(data);
  }));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (junk) => {
      try {
        const r = decodeGunMessage(junk);
        if (r) assert(r.length <= junk.length && r.value.length <= junk.length);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
  // Valid prefix with a random body.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (body) => {
      const m = new Uint8Array(5 + body.length);
      new DataView(m.buffer).setUint32(1, body.length);
      m.set(body, 5);
      try {
        decodeGunMessage(m);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
