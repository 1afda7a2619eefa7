import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { Framer } from "../../src/protocol/paniq/framer.ts";
import { MessageType } from "../../src/protocol/paniq/constants.ts";
import { parseHeaderRange, parseHeaderSet } from "../../src/protocol/paniq/header_range.ts";
import {
  generateSignature,
  parseChain,
  parseChainSet,
  validateSignature,
} from "../../src/protocol/paniq/chain.ts";
import { obfParams } from "./_helpers.ts";

Deno.test("Framer.encodeFrame() writes S_n padding then the LE header then the payload", () => {
  const f = new Framer(obfParams({ h1: "100", h2: "200", h3: "300", h4: "400" }));
  assertEquals(Array.from(f.encodeFrame(MessageType.Initiation, new Uint8Array([1, 2, 3]))), [
    0x64,
    0,
    0,
    0,
    1,
    2,
    3,
  ]);
});

Deno.test("Framer round-trips all four types with padding and ranges (Go framer test shape)", () => {
  const f = new Framer(
    obfParams({ s1: 2, s2: 3, s3: 5, s4: 7, h1: "100-110", h2: "200", h3: "300", h4: "400-4000" }),
  );
  for (const type of [1, 2, 3, 4] as const) {
    for (let i = 0; i < 50; i++) {
      const payload = crypto.getRandomValues(new Uint8Array(i));
      const frame = f.encodeFrame(type, payload);
      assertEquals(frame.length, f.overhead(type) + i);
      const d = f.decodeFrame(frame);
      assert(d, `type ${type}`);
      assertEquals(d.type, type);
      assertEquals(Array.from(d.payload), Array.from(payload));
    }
  }
});

Deno.test("Framer.decodeFrame() rejects short frames, unknown headers and ambiguous matches", () => {
  const f = new Framer(obfParams({ h1: "100", h2: "200", h3: "300", h4: "400" }));
  assertEquals(f.decodeFrame(new Uint8Array([0x64, 0, 0])), null);
  assertEquals(f.decodeFrame(new Uint8Array([0x65, 0, 0, 0])), null);
  // S1=0 reads 100 at offset 0; S4=4 reads 400 at offset 4: both match, so it is dropped.
  const g = new Framer(obfParams({ s4: 4, h1: "100", h2: "200", h3: "300", h4: "400" }));
  assertEquals(g.decodeFrame(new Uint8Array([0x64, 0, 0, 0, 0x90, 1, 0, 0])), null);
  assertEquals(g.decodeFrame(new Uint8Array([0x64, 0, 0, 0]))?.type, MessageType.Initiation);
});

Deno.test("Framer applies default headers 1..4 for empty specs", () => {
  const f = new Framer(obfParams());
  assertEquals(f.headers.map((h) => [h.start, h.end]), [[1, 1], [2, 2], [3, 3], [4, 4]]);
});

Deno.test("Framer.junkDatagrams() sends jc datagrams in [jmin, jmax], none when jmin or jmax is 0", () => {
  const f = new Framer(obfParams({ jc: 5, jmin: 10, jmax: 20 }));
  const junk = f.junkDatagrams();
  assertEquals(junk.length, 5);
  for (const j of junk) assert(j.length >= 10 && j.length <= 20);
  assertEquals(new Framer(obfParams({ jc: 5, jmin: 0, jmax: 20 })).junkDatagrams().length, 0);
  assertEquals(new Framer(obfParams({ jc: 0, jmin: 10, jmax: 20 })).junkDatagrams().length, 0);
});

Deno.test("Framer validates J/S parameters like Go obf.Config.Validate", () => {
  assertThrows(() => new Framer(obfParams({ jc: -1 })), /jc must be non-negative/);
  assertThrows(() => new Framer(obfParams({ jmin: 10, jmax: 5 })), /jmin must be <= jmax/);
  assertThrows(() => new Framer(obfParams({ s3: -1 })), /s1-s4/);
});

Deno.test("parseHeaderRange() parses N and A-B and rejects reversed and malformed ranges", () => {
  assertEquals(parseHeaderRange("1-3"), { start: 1, end: 3 });
  assertEquals(parseHeaderRange("7"), { start: 7, end: 7 });
  assertEquals(parseHeaderRange("4294967295"), { start: 4294967295, end: 4294967295 });
  assertThrows(() => parseHeaderRange("3-1"), /wrong range/);
  assertThrows(() => parseHeaderRange("4294967296"), /exceeds uint32/);
  assertThrows(() => parseHeaderRange("1-2-3"), /bad format/);
  assertThrows(() => parseHeaderRange("x"), /not a decimal/);
  assertThrows(() => parseHeaderRange("-5"), /not a decimal/);
});

Deno.test("parseHeaderSet() rejects overlapping ranges, including overlap with defaults", () => {
  assertThrows(() => parseHeaderSet(["1-10", "5-20", "30", "40"]), /must not overlap/);
  assertThrows(() => parseHeaderSet(["100-200", "150", "300", "400"]), /must not overlap/);
  assertThrows(() => parseHeaderSet(["1-5", "", "", ""]), /must not overlap/); // defaults 2,3,4 inside
  assertThrows(() => parseHeaderSet(["1", "2"]), /expected 4/);
  assertEquals(parseHeaderSet(["10-20", "21-30", "31", "32"]).length, 4);
});

Deno.test("parseChain() computes lengths: <b 0xdeadbeef><r 8><t> is 16 bytes", () => {
  const c = parseChain("<b 0xdeadbeef><r 8><t>");
  assertEquals(c.length, 16);
  assertEquals(parseChain("junk <rc 3> text <rd 2><d><ds><dz 2>").length, 7);
  assertEquals(parseChain("no tags at all").length, 0);
});

Deno.test("parseChain() errors: unknown tag, empty tag, missing >, bad args", () => {
  assertThrows(() => parseChain("<x 1>"), /unknown tag <x>/);
  assertThrows(() => parseChain("<>"), /empty tag/);
  assertThrows(() => parseChain("<b 0xdead"), /missing enclosing >/);
  assertThrows(() => parseChain("<b 0xabc>"), /odd amount/);
  assertThrows(() => parseChain("<b>"), /empty argument/);
  assertThrows(() => parseChain("<b zz>"), /not hex/);
  assertThrows(() => parseChain("<r>"), /not an integer/);
  assertThrows(() => parseChain("<r -1>"), /out of range/);
  assertThrows(() => parseChain("<dz x>"), /not an integer/);
  assertThrows(() => parseChainSet(["", "<q>"]), /^SyntaxError: i2: /);
});

Deno.test("generateSignature() output validates; <t> is BE seconds; tampering is caught", () => {
  const c = parseChain("<b 0xdeadbeef><t><rc 6><rd 4><r 3><dz 2>");
  const sig = generateSignature(c, 1700000000);
  assertEquals(sig.length, 4 + 4 + 6 + 4 + 3 + 2);
  assertEquals(Array.from(sig.subarray(0, 4)), [0xde, 0xad, 0xbe, 0xef]);
  assertEquals(validateSignature(c, sig), { timestamp: 1700000000 });
  const badB = sig.slice();
  badB[0] = 0;
  assertEquals(validateSignature(c, badB), null);
  const badRc = sig.slice();
  badRc[8] = 0x31;
  assertEquals(validateSignature(c, badRc), null);
  const badRd = sig.slice();
  badRd[14] = 0x41;
  assertEquals(validateSignature(c, badRd), null);
  assertEquals(validateSignature(c, sig.subarray(1)), null);
});
