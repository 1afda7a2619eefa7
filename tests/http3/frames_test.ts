// HTTP/3 frame codec vectors (RFC 9114 §7, RFC 9000 §16 and Appendix A.1) and FrameReader
// behaviour on arbitrary chunking, unknown and reserved types, and malformed payloads.
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import {
  encodeFrame,
  encodePushPromiseFrame,
  encodeSettingsFrame,
  encodeVarintFrame,
  FRAME,
  type FrameEvent,
  FrameReader,
  greaseType,
  isGreaseType,
  parsePushPromisePayload,
  parseSettingsPayload,
  parseVarintPayload,
} from "../../src/http3/frames.ts";
import { decodeVarint, encodeVarint, varintBytes, varintLength } from "../../src/http3/varint.ts";
import { H3_ERROR, H3Error } from "../../src/http3/errors.ts";
import { parseSettings, SETTING, settingsPairs } from "../../src/http3/settings.ts";
import { hex, toHex } from "./_hex.ts";

Deno.test("decodeVarint() reads the RFC 9000 Appendix A.1 samples", () => {
  const cases: [string, number][] = [
    ["c2197c5eff14e88c", 151288809941952652],
    ["9d7f3e7d", 494878333],
    ["7bbd", 15293],
    ["25", 37],
    ["4025", 37],
  ];
  for (const [h, v] of cases) {
    const b = hex(h);
    assertEquals(decodeVarint(b, 0), { value: v, next: b.length });
  }
});

Deno.test("encodeVarint() writes the shortest form and round-trips every length class", () => {
  assertEquals(toHex(varintBytes(15293)), "7bbd");
  assertEquals(toHex(varintBytes(494878333)), "9d7f3e7d");
  assertEquals(toHex(varintBytes(37)), "25");
  for (const v of [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER]) {
    const b = varintBytes(v);
    assertEquals(b.length, varintLength(v));
    assertEquals(decodeVarint(b, 0)?.value, v);
  }
  assertThrows(() => encodeVarint(new Uint8Array(8), 0, -1), RangeError);
  assertEquals(decodeVarint(hex("9d7f3e"), 0), undefined);
});

Deno.test("frame writers produce the RFC 9114 layouts", () => {
  assertEquals(toHex(encodeFrame(FRAME.DATA, new TextEncoder().encode("hello"))), "000568656c6c6f");
  assertEquals(toHex(encodeSettingsFrame([[1, 4096], [7, 100]])), "0406015000074064");
  assertEquals(toHex(encodeVarintFrame(FRAME.GOAWAY, 4)), "070104");
  assertEquals(toHex(encodeVarintFrame(FRAME.MAX_PUSH_ID, 100)), "0d024064");
  assertEquals(toHex(encodeVarintFrame(FRAME.CANCEL_PUSH, 3)), "030103");
  assertEquals(toHex(encodePushPromiseFrame(2, hex("0000d1"))), "050402" + "0000d1");
  assertEquals(parsePushPromisePayload(hex("020000d1")).pushId, 2);
  assertEquals(parseSettingsPayload(hex("015000074064")), [[1, 4096], [7, 100]]);
  assertEquals(parseVarintPayload(FRAME.GOAWAY, hex("04")), 4);
});

Deno.test("grease types are 0x1f * N + 0x21", () => {
  assertEquals([0, 1, 2].map(greaseType), [0x21, 0x40, 0x5f]);
  assert(isGreaseType(0x21) && isGreaseType(0x1f * 1000 + 0x21));
  assert(!isGreaseType(0x22) && !isGreaseType(FRAME.HEADERS));
});

function readAll(r: FrameReader): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (let ev = r.next(); ev; ev = r.next()) out.push(ev);
  return out;
}

/** Collapses events into comparable records: data pieces are joined per frame. */
function summarize(events: FrameEvent[]): string[] {
  const out: string[] = [];
  let data = "";
  for (const ev of events) {
    if (ev.kind === "data") {
      data += toHex(ev.data);
      continue;
    }
    if (data) out.push(`data:${data}`), data = "";
    if (ev.kind === "header") out.push(`header:${ev.type}:${ev.length}`);
    else out.push(`frame:${ev.type}:${toHex(ev.payload)}`);
  }
  if (data) out.push(`data:${data}`);
  return out;
}

const STREAM = [
  encodeFrame(FRAME.HEADERS, hex("0000d1d7")),
  encodeFrame(greaseType(7), hex("aabbcc")), // unknown: skipped
  encodeFrame(FRAME.DATA, hex("0102030405")),
  encodeFrame(FRAME.DATA, new Uint8Array(0)),
  encodeFrame(0x4321, new Uint8Array(70)), // unknown with a 2-byte type
  encodeFrame(FRAME.DATA, new Uint8Array(300).fill(7)),
  encodeFrame(FRAME.HEADERS, new Uint8Array(0)),
];
const EXPECTED = [
  "header:1:4",
  "frame:1:0000d1d7",
  `header:${greaseType(7)}:3`,
  "header:0:5",
  "data:0102030405",
  "header:0:0",
  "header:17185:70",
  "header:0:300",
  `data:${"07".repeat(300)}`,
  "header:1:0",
  "frame:1:",
];

Deno.test("FrameReader parses frames, streams DATA and skips unknown types", () => {
  const r = new FrameReader();
  for (const f of STREAM) r.push(f);
  assertEquals(summarize(readAll(r)), EXPECTED);
  assert(r.atFrameBoundary);
});

Deno.test("FrameReader gives the same frames for any chunking", () => {
  const all = new Uint8Array(STREAM.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of STREAM) all.set(f, o), o += f.length;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 60 }), (cuts) => {
      const r = new FrameReader();
      const events: FrameEvent[] = [];
      let at = 0;
      for (const n of cuts) {
        r.push(all.slice(at, at + n));
        at += n;
        events.push(...readAll(r));
        if (at >= all.length) break;
      }
      if (at < all.length) r.push(all.slice(at));
      events.push(...readAll(r));
      assertEquals(summarize(events), EXPECTED);
      return r.atFrameBoundary;
    }),
    { numRuns: 500 },
  );
});

Deno.test("FrameReader reports a frame cut short", () => {
  const r = new FrameReader();
  r.push(hex("0005 0102"));
  readAll(r);
  assert(!r.atFrameBoundary);
});

Deno.test("FrameReader rejects reserved HTTP/2 frame types with H3_FRAME_UNEXPECTED", () => {
  for (const t of [0x02, 0x06, 0x08, 0x09]) {
    const r = new FrameReader();
    r.push(encodeFrame(t, new Uint8Array(1)));
    const e = assertThrows(() => readAll(r), H3Error);
    assertEquals(e.code, H3_ERROR.FRAME_UNEXPECTED);
  }
});

Deno.test("FrameReader rejects an oversized buffered frame with H3_EXCESSIVE_LOAD", () => {
  const r = new FrameReader({ maxFramePayload: 16 });
  r.push(hex("0111"));
  assertEquals(assertThrows(() => readAll(r), H3Error).code, H3_ERROR.EXCESSIVE_LOAD);
  // DATA is streamed, never buffered, so it has no such limit.
  const d = new FrameReader({ maxFramePayload: 16 });
  d.push(encodeFrame(FRAME.DATA, new Uint8Array(100)));
  assertEquals(readAll(d).length, 2);
});

Deno.test("frame payload parsers reject malformed payloads with H3_FRAME_ERROR", () => {
  assertEquals(assertThrows(() => parseSettingsPayload(hex("0150")), H3Error).code, H3_ERROR.FRAME_ERROR);
  assertEquals(assertThrows(() => parseSettingsPayload(hex("01")), H3Error).code, H3_ERROR.FRAME_ERROR);
  assertEquals(
    assertThrows(() => parseVarintPayload(FRAME.GOAWAY, hex("0400")), H3Error).code,
    H3_ERROR.FRAME_ERROR,
  );
  assertEquals(
    assertThrows(() => parseVarintPayload(FRAME.MAX_PUSH_ID, hex("")), H3Error).code,
    H3_ERROR.FRAME_ERROR,
  );
  assertEquals(
    assertThrows(() => parseVarintPayload(FRAME.CANCEL_PUSH, hex("40")), H3Error).code,
    H3_ERROR.FRAME_ERROR,
  );
  assertEquals(assertThrows(() => parsePushPromisePayload(hex("")), H3Error).code, H3_ERROR.FRAME_ERROR);
});

Deno.test("parseSettings() applies defaults, ignores unknown ids and rejects bad ones", () => {
  const s = parseSettings([[SETTING.QPACK_MAX_TABLE_CAPACITY, 4096], [0x21, 5], [
    SETTING.ENABLE_CONNECT_PROTOCOL,
    1,
  ]]);
  assertEquals(s.qpackMaxTableCapacity, 4096);
  assertEquals(s.qpackBlockedStreams, 0);
  assertEquals(s.maxFieldSectionSize, Infinity);
  assertEquals(s.enableConnectProtocol, true);
  const code = (pairs: [number, number][]) => assertThrows(() => parseSettings(pairs), H3Error).code;
  assertEquals(code([[1, 1], [1, 2]]), H3_ERROR.SETTINGS_ERROR);
  for (const id of [2, 3, 4, 5]) assertEquals(code([[id, 0]]), H3_ERROR.SETTINGS_ERROR);
  assertEquals(code([[SETTING.ENABLE_CONNECT_PROTOCOL, 2]]), H3_ERROR.SETTINGS_ERROR);
  assertEquals(code([[SETTING.H3_DATAGRAM, 5]]), H3_ERROR.SETTINGS_ERROR);
  // What we send parses back to itself.
  const mine = {
    qpackMaxTableCapacity: 4096,
    qpackBlockedStreams: 100,
    maxFieldSectionSize: 65536,
    enableConnectProtocol: true,
  };
  const back = parseSettings(parseSettingsPayload(encodeSettingsFrame(settingsPairs(mine)).subarray(2)));
  assertEquals([
    back.qpackMaxTableCapacity,
    back.qpackBlockedStreams,
    back.maxFieldSectionSize,
    back.enableConnectProtocol,
  ], [
    4096,
    100,
    65536,
    true,
  ]);
});

Deno.test("FrameReader only raises H3Error on random bytes", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }), (chunks) => {
      const r = new FrameReader({ maxFramePayload: 64 });
      try {
        for (const c of chunks) {
          r.push(c);
          for (let ev = r.next(); ev; ev = r.next()) {
            if (ev.kind === "frame" && ev.type === FRAME.SETTINGS) {
              parseSettings(parseSettingsPayload(ev.payload));
            }
            if (ev.kind === "frame" && ev.type === FRAME.GOAWAY) parseVarintPayload(ev.type, ev.payload);
          }
        }
      } catch (e) {
        if (!(e instanceof H3Error)) throw e;
      }
    }),
    { numRuns: 20000 },
  );
});
