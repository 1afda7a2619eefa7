// RFC 9204 Appendix B: every example, byte for byte, on the encoder and on the decoder side, with
// both dynamic tables checked as the RFC shows them. The examples use no Huffman coding, a
// SETTINGS_QPACK_MAX_TABLE_CAPACITY of 220 and one blocked stream.
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { QpackDecoder } from "../../src/http3/qpack/decoder.ts";
import { QpackEncoder } from "../../src/http3/qpack/encoder.ts";
import type { DynamicTable } from "../../src/http3/qpack/dynamic_table.ts";
import { H3Error } from "../../src/http3/errors.ts";
import { hex, toHex } from "./_hex.ts";

const B1_SECTION = "0000 510b 2f69 6e64 6578 2e68 746d 6c";
const B2_ENCODER = "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468";
const B2_SECTION = "0381 10 11";
const B2_DECODER = "84";
const B3_ENCODER = "4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565";
const B3_DECODER = "01";
const B4_ENCODER = "02";
const B4_SECTION = "0500 80 c1 81";
const B4_DECODER = "48";
const B5_ENCODER = "810d 6375 7374 6f6d 2d76 616c 7565 32";

const B1_FIELDS: [string, string][] = [[":path", "/index.html"]];
const B2_FIELDS: [string, string][] = [[":authority", "www.example.com"], [":path", "/sample/path"]];
const B4_FIELDS: [string, string][] = [[":authority", "www.example.com"], [":path", "/"], [
  "custom-key",
  "custom-value",
]];

const c = (s: string) => s.replace(/\s+/g, "");

function entries(t: DynamicTable): [number, string, string][] {
  const out: [number, string, string][] = [];
  for (let abs = t.dropped; abs < t.insertCount; abs++) out.push([abs, t.name(abs), t.value(abs)]);
  return out;
}

function refs(enc: QpackEncoder): number[] {
  const out: number[] = [];
  for (let abs = enc.table.dropped; abs < enc.table.insertCount; abs++) out.push(enc.referenceCount(abs));
  return out;
}

Deno.test("QpackEncoder produces the RFC 9204 Appendix B bytes", () => {
  const enc = new QpackEncoder({ huffman: "never", indexOnRepeat: new Set() });

  // B.1: no SETTINGS from the peer yet, so static table only.
  assertEquals(toHex(enc.encodeFieldSection(0, B1_FIELDS)), c(B1_SECTION));
  assertEquals(toHex(enc.takeEncoderStreamBytes()), "");

  // B.2
  enc.setPeerSettings({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  assertEquals(toHex(enc.encodeFieldSection(4, B2_FIELDS)), c(B2_SECTION));
  assertEquals(toHex(enc.takeEncoderStreamBytes()), c(B2_ENCODER));
  assertEquals(enc.table.size, 106);
  assertEquals(refs(enc), [1, 1]);
  assertEquals(enc.knownReceivedCount, 0);
  assertEquals(enc.blockedStreams, 1);
  enc.feedDecoderStream(hex(B2_DECODER));
  assertEquals(refs(enc), [0, 0]);
  assertEquals(enc.knownReceivedCount, 2);
  assertEquals(enc.blockedStreams, 0);

  // B.3
  assertEquals(enc.insert("custom-key", "custom-value"), 2);
  assertEquals(toHex(enc.takeEncoderStreamBytes()), c(B3_ENCODER));
  assertEquals(enc.table.size, 160);
  enc.feedDecoderStream(hex(B3_DECODER));
  assertEquals(enc.knownReceivedCount, 3);

  // B.4
  assertEquals(enc.duplicate(0), 3);
  assertEquals(toHex(enc.takeEncoderStreamBytes()), c(B4_ENCODER));
  assertEquals(toHex(enc.encodeFieldSection(8, B4_FIELDS)), c(B4_SECTION));
  assertEquals(toHex(enc.takeEncoderStreamBytes()), "");
  assertEquals(enc.table.size, 217);
  assertEquals(refs(enc), [0, 0, 1, 1]);
  assertEquals(enc.blockedStreams, 1);
  enc.feedDecoderStream(hex(B4_DECODER));
  assertEquals(refs(enc), [0, 0, 0, 0]);
  assertEquals(enc.blockedStreams, 0);
  assertEquals(enc.knownReceivedCount, 3);

  // B.5
  assertEquals(enc.insert("custom-key", "custom-value2"), 4);
  assertEquals(toHex(enc.takeEncoderStreamBytes()), c(B5_ENCODER));
  assertEquals(enc.table.size, 215);
  assertEquals(entries(enc.table), [
    [1, ":path", "/sample/path"],
    [2, "custom-key", "custom-value"],
    [3, ":authority", "www.example.com"],
    [4, "custom-key", "custom-value2"],
  ]);
});

Deno.test("QpackDecoder decodes the RFC 9204 Appendix B bytes and answers as the RFC does", () => {
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });

  assertEquals(dec.decodeFieldSection(0, hex(B1_SECTION)), B1_FIELDS);
  assertEquals(toHex(dec.takeDecoderStreamBytes()), "");

  assertEquals(dec.feedEncoderStream(hex(B2_ENCODER)), []);
  assertEquals(dec.table.capacity, 220);
  assertEquals(dec.decodeFieldSection(4, hex(B2_SECTION)), B2_FIELDS);
  assertEquals(toHex(dec.takeDecoderStreamBytes()), B2_DECODER);
  assertEquals(dec.table.size, 106);

  dec.feedEncoderStream(hex(B3_ENCODER));
  assertEquals(toHex(dec.takeDecoderStreamBytes()), B3_DECODER);
  assertEquals(dec.table.size, 160);

  // B.4: the encoder-stream packet is delayed, so the section arrives first and blocks; the
  // decoder then cancels the stream.
  assertEquals(dec.decodeFieldSection(8, hex(B4_SECTION)), null);
  assertEquals(dec.isBlocked(8), true);
  assertEquals(dec.blockedStreams, 1);
  dec.cancelStream(8);
  assertEquals(dec.isBlocked(8), false);
  assertEquals(toHex(dec.takeDecoderStreamBytes()), B4_DECODER);
  assertEquals(dec.feedEncoderStream(hex(B4_ENCODER)), []);
  assertEquals(dec.table.size, 217);

  dec.feedEncoderStream(hex(B5_ENCODER));
  assertEquals(dec.table.size, 215);
  assertEquals(entries(dec.table), [
    [1, ":path", "/sample/path"],
    [2, "custom-key", "custom-value"],
    [3, ":authority", "www.example.com"],
    [4, "custom-key", "custom-value2"],
  ]);
  // The two inserts not acknowledged by any section.
  assertEquals(toHex(dec.takeDecoderStreamBytes()), "02");
});

function decoderAfterB3(): QpackDecoder {
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  dec.feedEncoderStream(hex(B2_ENCODER));
  dec.decodeFieldSection(4, hex(B2_SECTION));
  dec.feedEncoderStream(hex(B3_ENCODER));
  dec.takeDecoderStreamBytes();
  return dec;
}

Deno.test("QpackDecoder resumes the blocked B.4 section when the duplicate arrives", () => {
  const dec = decoderAfterB3();
  assertEquals(dec.decodeFieldSection(8, hex(B4_SECTION)), null);
  assertEquals(dec.feedEncoderStream(hex(B4_ENCODER)), [8]);
  assertEquals(dec.resume(8), B4_FIELDS);
  assertEquals(dec.isBlocked(8), false);
  assertEquals(toHex(dec.takeDecoderStreamBytes()), "88"); // Section Acknowledgment (stream 8)
});

Deno.test("QpackDecoder decodes B.4 at once when the duplicate arrives first", () => {
  const dec = decoderAfterB3();
  dec.feedEncoderStream(hex(B4_ENCODER));
  assertEquals(dec.decodeFieldSection(8, hex(B4_SECTION)), B4_FIELDS);
  assertEquals(toHex(dec.takeDecoderStreamBytes()), "88");
});

Deno.test("QpackDecoder accepts the Appendix B encoder stream one byte at a time", () => {
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  for (const b of hex(B2_ENCODER + B3_ENCODER)) dec.feedEncoderStream(new Uint8Array([b]));
  assertEquals(entries(dec.table), [
    [0, ":authority", "www.example.com"],
    [1, ":path", "/sample/path"],
    [2, "custom-key", "custom-value"],
  ]);
});

Deno.test("QpackEncoder and QpackDecoder agree through every Appendix B step", () => {
  const enc = new QpackEncoder({ huffman: "never", indexOnRepeat: new Set() });
  const dec = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  assertEquals(dec.decodeFieldSection(0, enc.encodeFieldSection(0, B1_FIELDS)), B1_FIELDS);
  enc.setPeerSettings({ maxTableCapacity: 220, maxBlockedStreams: 1 });
  let section = enc.encodeFieldSection(4, B2_FIELDS);
  dec.feedEncoderStream(enc.takeEncoderStreamBytes());
  assertEquals(dec.decodeFieldSection(4, section), B2_FIELDS);
  enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  enc.insert("custom-key", "custom-value");
  dec.feedEncoderStream(enc.takeEncoderStreamBytes());
  enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  enc.duplicate(0);
  section = enc.encodeFieldSection(8, B4_FIELDS);
  dec.feedEncoderStream(enc.takeEncoderStreamBytes());
  assertEquals(dec.decodeFieldSection(8, section), B4_FIELDS);
  enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  assertEquals(enc.knownReceivedCount, 4);
  assertEquals(refs(enc), [0, 0, 0, 0]);
});

Deno.test("QpackEncoder rejects a Section Acknowledgment with nothing outstanding", () => {
  const enc = new QpackEncoder();
  const e = assertThrows(() => enc.feedDecoderStream(hex("84")), H3Error);
  assertEquals(e.code, 0x202);
});
