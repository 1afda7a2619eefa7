// Huffman vectors from RFC 7541 Appendix C.4 and C.6 (the code QPACK reuses), plus the padding
// rules of RFC 7541 §5.2 and random round trips.
import fc from "fast-check";
import { assertEquals, assertThrows } from "../_util/assert.ts";
import {
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  HuffmanError,
} from "../../src/http3/qpack/huffman.ts";
import { hex, toHex } from "./_hex.ts";

const VECTORS: [string, string][] = [
  ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
  ["no-cache", "a8eb 1064 9cbf"],
  ["custom-key", "25a8 49e9 5ba9 7d7f"],
  ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
  ["302", "6402"],
  ["307", "640e ff"],
  ["private", "aec3 771a 4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
  ["Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"],
  ["https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
  ["gzip", "9bd9 ab"],
  [
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
  ],
];

function encode(s: string): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(s));
  assertEquals(huffmanEncode(s, out, 0), out.length);
  return out;
}

Deno.test("huffmanEncode() matches the RFC 7541 Appendix C vectors", () => {
  for (const [text, code] of VECTORS) assertEquals(toHex(encode(text)), code.replace(/ /g, ""), text);
});

Deno.test("huffmanDecode() matches the RFC 7541 Appendix C vectors", () => {
  for (const [text, code] of VECTORS) {
    const b = hex(code);
    assertEquals(huffmanDecode(b, 0, b.length), text);
  }
});

Deno.test("huffmanDecode() round-trips every byte value, including 30-bit codes", () => {
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const b = encode(all);
  assertEquals(huffmanDecode(b, 0, b.length), all);
  assertEquals(huffmanDecode(new Uint8Array(0), 0, 0), "");
});

Deno.test("huffmanDecode() rejects padding longer than 7 bits", () => {
  // "0" is 00000 (5 bits); a full byte of 1s after it is 8+ bits of padding.
  assertThrows(() => huffmanDecode(hex("07ff"), 0, 2), HuffmanError);
  assertThrows(() => huffmanDecode(hex("ff"), 0, 1), HuffmanError);
});

Deno.test("huffmanDecode() rejects padding that is not all ones", () => {
  // "0" = 00000 then padding 110 (must be 111).
  assertThrows(() => huffmanDecode(hex("06"), 0, 1), HuffmanError);
  assertEquals(huffmanDecode(hex("07"), 0, 1), "0");
});

Deno.test("huffmanDecode() rejects an explicit EOS symbol", () => {
  // EOS is 30 ones; four 0xff bytes contain it.
  assertThrows(() => huffmanDecode(hex("ffffffff"), 0, 4), HuffmanError);
});

Deno.test("huffmanDecode() inverts huffmanEncode() on random byte strings", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const s = String.fromCharCode(...bytes);
      const b = encode(s);
      return huffmanDecode(b, 0, b.length) === s;
    }),
    { numRuns: 2000 },
  );
});

Deno.test("huffmanDecode() only ever throws HuffmanError on random input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        huffmanDecode(bytes, 0, bytes.length);
      } catch (e) {
        if (!(e instanceof HuffmanError)) throw e;
      }
    }),
    { numRuns: 5000 },
  );
});
