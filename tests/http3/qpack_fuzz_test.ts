// QPACK under random traffic: encoder → decoder round trips with reordered encoder-stream
// delivery, blocked sections, late acknowledgments and cancellations; and decoder fuzzing with
// random and mutated input, which must only ever raise H3Error.
import fc from "fast-check";
import { assert, assertEquals } from "../_util/assert.ts";
import { QpackDecoder } from "../../src/http3/qpack/decoder.ts";
import { QpackEncoder } from "../../src/http3/qpack/encoder.ts";
import { H3Error } from "../../src/http3/errors.ts";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  ":authority",
  ":path",
  "user-agent",
  "accept",
  "cookie",
  "x-request-id",
  "authorization",
  "x-custom",
];
const VALUES = [
  "",
  "a",
  "www.example.com",
  "/index.html",
  "Mozilla/5.0",
  "*/*",
  "session=abcdef0123456789",
  "\x80\xff",
];

function randomFields(r: () => number): [string, string][] {
  const n = 1 + Math.floor(r() * 12);
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const name = r() < 0.85 ? NAMES[Math.floor(r() * NAMES.length)] : `x-n${Math.floor(r() * 50)}`;
    let value = VALUES[Math.floor(r() * VALUES.length)];
    if (r() < 0.3) value += String(Math.floor(r() * 40));
    if (r() < 0.05) value = "v".repeat(Math.floor(r() * 300));
    out.push([name, value]);
  }
  return out;
}

const stats = { blocked: 0, cancelled: 0, evictions: 0 };

/** Runs one random session; throws on any mismatch. */
function session(seed: number): void {
  const r = rng(seed);
  const capacity = [0, 64, 220, 1024, 4096][Math.floor(r() * 5)];
  const blocked = Math.floor(r() * 4);
  const huffman = (["auto", "always", "never"] as const)[Math.floor(r() * 3)];
  const enc = new QpackEncoder({ huffman, maxTableCapacity: 4096 });
  const dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
  enc.setPeerSettings({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
  const encQueue: Uint8Array[] = [];
  const pending = new Map<number, [string, string][]>(); // blocked sections awaiting inserts
  const deliverEncoder = (count: number) => {
    for (let i = 0; i < count && encQueue.length > 0; i++) {
      for (const id of dec.feedEncoderStream(encQueue.shift()!)) {
        const fields = dec.resume(id);
        assertEquals(fields, pending.get(id), `resumed stream ${id} (seed ${seed})`);
        pending.delete(id);
      }
    }
  };
  for (let k = 0; k < 60; k++) {
    const streamId = k * 4;
    const fields = randomFields(r);
    const section = enc.encodeFieldSection(streamId, fields);
    const instr = enc.takeEncoderStreamBytes();
    // Split encoder-stream bytes into random chunks.
    for (let at = 0; at < instr.length;) {
      const n = 1 + Math.floor(r() * instr.length);
      encQueue.push(instr.slice(at, at + n));
      at += n;
    }
    if (r() < 0.5) deliverEncoder(Math.floor(r() * 4));
    if (r() < 0.1 && dec.blockedStreams === 0) {
      // The request stream is reset before its section is processed.
      dec.cancelStream(streamId);
      stats.cancelled++;
    } else {
      const decoded = dec.decodeFieldSection(streamId, section);
      if (decoded === null) {
        pending.set(streamId, fields);
        stats.blocked++;
      } else assertEquals(decoded, fields, `stream ${streamId} (seed ${seed})`);
    }
    assert(dec.blockedStreams <= blocked);
    if (r() < 0.6) enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  }
  deliverEncoder(Infinity);
  assertEquals(pending.size, 0);
  enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  assertEquals(enc.knownReceivedCount, enc.table.insertCount);
  assertEquals(enc.blockedStreams, 0);
  assertEquals(dec.table.insertCount, enc.table.insertCount);
  stats.evictions += enc.table.dropped;
  assertEquals(dec.table.size, enc.table.size);
  for (let abs = enc.table.dropped; abs < enc.table.insertCount; abs++) {
    assertEquals(enc.referenceCount(abs), 0);
    assertEquals([dec.table.name(abs), dec.table.value(abs)], [enc.table.name(abs), enc.table.value(abs)]);
  }
}

Deno.test("QpackEncoder/QpackDecoder round-trip random traffic with reordering and blocking", () => {
  fc.assert(fc.property(fc.integer(), (seed) => session(seed)), { numRuns: 300 });
  // The runs must have exercised the interesting paths.
  assert(stats.blocked > 50 && stats.cancelled > 50 && stats.evictions > 1000, JSON.stringify(stats));
});

Deno.test("QpackEncoder uses the dynamic table for repeated headers", () => {
  const enc = new QpackEncoder();
  const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  const fields: [string, string][] = [[":authority", "example.org"], ["user-agent", "switchyard/0.1"], [
    "x-trace",
    "0123456789abcdef",
  ]];
  const first = enc.encodeFieldSection(0, fields);
  dec.feedEncoderStream(enc.takeEncoderStreamBytes());
  assertEquals(dec.decodeFieldSection(0, first), fields);
  enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  const second = enc.encodeFieldSection(4, fields);
  assertEquals(enc.takeEncoderStreamBytes().length, 0);
  assertEquals(second.length, 2 + 3); // prefix + three one-byte indexed lines
  assertEquals(dec.decodeFieldSection(4, second), fields);
});

Deno.test("QpackEncoder never blocks more streams than the peer allows", () => {
  const enc = new QpackEncoder();
  const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 2 });
  enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 2 });
  const held: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const section = enc.encodeFieldSection(i * 4, [["x-id", String(i)]]);
    held.push(enc.takeEncoderStreamBytes());
    // Without encoder-stream delivery, only two sections may be blocked.
    const out = dec.decodeFieldSection(i * 4, section);
    if (i >= 2) assertEquals(out, [["x-id", String(i)]]);
  }
  assertEquals(enc.blockedStreams, 2);
  assertEquals(dec.blockedStreams, 2);
});

Deno.test("QpackEncoder sends never-index fields as literals with the N bit", () => {
  const enc = new QpackEncoder({ huffman: "never" });
  enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  const section = enc.encodeFieldSection(0, [["authorization", "secret"]]);
  assertEquals(enc.table.insertCount, 0);
  // Literal with static name reference 84, N=1: 0111 1111 then 84 - 15 = 69.
  assertEquals(Array.from(section.subarray(0, 4)), [0, 0, 0x7f, 69]);
  const dec = new QpackDecoder({ maxTableCapacity: 4096 });
  assertEquals(dec.decodeFieldSection(0, section), [["authorization", "secret"]]);
});

function onlyH3Errors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof H3Error)) throw e;
  }
}

Deno.test("QpackDecoder only raises H3Error on random field sections and encoder streams", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), (a, b) => {
      const dec = new QpackDecoder({ maxTableCapacity: 256, maxBlockedStreams: 2 });
      onlyH3Errors(() => dec.feedEncoderStream(a));
      onlyH3Errors(() => void dec.decodeFieldSection(0, b));
      onlyH3Errors(() => void dec.decodeFieldSection(4, a));
      onlyH3Errors(() => dec.feedEncoderStream(b));
      onlyH3Errors(() => void dec.resume(0));
      dec.takeDecoderStreamBytes();
    }),
    { numRuns: 20000 },
  );
});

Deno.test("QpackDecoder only raises H3Error on mutated valid input", () => {
  fc.assert(
    fc.property(fc.integer(), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (seed, flips) => {
      const r = rng(seed);
      const enc = new QpackEncoder();
      enc.setPeerSettings({ maxTableCapacity: 512, maxBlockedStreams: 4 });
      const dec = new QpackDecoder({ maxTableCapacity: 512, maxBlockedStreams: 4 });
      for (let k = 0; k < 5; k++) {
        const section = enc.encodeFieldSection(k * 4, randomFields(r));
        const instr = enc.takeEncoderStreamBytes();
        for (const [at, v] of flips) {
          if (r() < 0.5 && instr.length) instr[at % instr.length] ^= v;
          else if (section.length) section[at % section.length] ^= v;
        }
        onlyH3Errors(() => dec.feedEncoderStream(instr));
        onlyH3Errors(() => void dec.decodeFieldSection(k * 4, section));
        onlyH3Errors(() => enc.feedDecoderStream(dec.takeDecoderStreamBytes()));
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("QpackEncoder only raises H3Error on random decoder-stream bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const enc = new QpackEncoder();
      enc.setPeerSettings({ maxTableCapacity: 512, maxBlockedStreams: 4 });
      enc.encodeFieldSection(0, [["x-a", "1"], ["x-b", "2"]]);
      onlyH3Errors(() => enc.feedDecoderStream(bytes));
    }),
    { numRuns: 10000 },
  );
});

Deno.test("QpackEncoder inserts volatile fields (:path, date, …) only once a value repeats", () => {
  const enc = new QpackEncoder();
  enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  const send = (id: number, path: string) => {
    const section = enc.encodeFieldSection(id, [[":path", path], ["x-stable", "v"]]);
    dec.feedEncoderStream(enc.takeEncoderStreamBytes());
    assertEquals(dec.decodeFieldSection(id, section), [[":path", path], ["x-stable", "v"]]);
    enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  };
  send(0, "/a");
  assertEquals(enc.table.insertCount, 1); // x-stable only
  send(4, "/b");
  assertEquals(enc.table.insertCount, 1);
  send(8, "/a"); // seen before: now worth a table entry
  assertEquals(enc.table.insertCount, 2);
  assertEquals([enc.table.name(1), enc.table.value(1)], [":path", "/a"]);
});
