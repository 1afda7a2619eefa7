/**
 * The allocation-free transport paths the UDP shims use (`TransportCodec.encodeInto`,
 * `decodeOffset`, `fillRandomAt`, `Framer.frameType`): a known-answer frame, and byte-for-byte
 * agreement with `encode`/`decode` (same draws from the random source, same counters).
 */
import fc from "fast-check";
import { assertEquals } from "./_assert.ts";
import { Framer } from "../../src/protocol/paniq/framer.ts";
import { newEnvelopeCounters } from "../../src/protocol/paniq/metrics.ts";
import { resolvePadding } from "../../src/protocol/paniq/padding.ts";
import { fillRandomAt, setRandomSource } from "../../src/protocol/paniq/random.ts";
import { TransportCodec } from "../../src/protocol/paniq/transport_codec.ts";
import { MessageType } from "../../src/protocol/paniq/constants.ts";
import { obfParams } from "./_helpers.ts";

/** A deterministic random source: a counter from `seed`, one byte at a time. */
function counterSource(seed: number): (b: Uint8Array) => void {
  let x = seed;
  return (b) => {
    for (let i = 0; i < b.length; i++) b[i] = x++ & 0xff;
  };
}

function codec(o: { s4: number; h4: string; pad: object; replay: boolean }) {
  return new TransportCodec({
    framer: new Framer(obfParams({ s4: o.s4, h4: o.h4 })),
    padding: resolvePadding(o.pad),
    maxPacketSize: 1350,
    transportReplay: o.replay,
    replayLimit: 1n << 60n,
    counters: newEnvelopeCounters(),
  });
}

Deno.test("encodeInto known answer: S4 random bytes, LE header, BE inner_len, inner, random pad", () => {
  setRandomSource(counterSource(0xa0));
  try {
    const c = codec({ s4: 3, h4: "4", pad: { pad_min: 2, pad_max: 2 }, replay: false });
    const out = new Uint8Array(64).fill(0xee);
    const n = c.encodeInto(out, new Uint8Array([0xab, 0xcd]));
    assertEquals(
      [...out.subarray(0, n + 1)],
      [0xa0, 0xa1, 0xa2, 0x04, 0, 0, 0, 0x00, 0x02, 0xab, 0xcd, 0xa3, 0xa4, 0xee],
    );
    // With transport_replay the u64 BE counter comes first and counts up from 0.
    const r = codec({ s4: 0, h4: "7", pad: { pad_min: 0, pad_max: 0 }, replay: true });
    r.encodeInto(out, new Uint8Array([1]));
    const m = r.encodeInto(out, new Uint8Array([2]));
    assertEquals([...out.subarray(0, m)], [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2]);
  } finally {
    setRandomSource(null);
  }
});

Deno.test("encodeInto/decodeOffset agree with encode/decode byte for byte (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.record({
        s4: fc.integer({ min: 0, max: 200 }),
        replay: fc.boolean(),
        burst: fc.boolean(),
        seed: fc.integer({ min: 0, max: 255 }),
        inner: fc.uint8Array({ minLength: 1, maxLength: 1100 }),
        lead: fc.integer({ min: 0, max: 40 }),
      }),
      ({ s4, replay, burst, seed, inner, lead }) => {
        const pad = burst
          ? { pad_min: 0, pad_max: 64, pad_burst_min: 100, pad_burst_max: 300, pad_burst_prob: 0.5 }
          : { pad_min: 0, pad_max: 64 };
        const a = codec({ s4, h4: "100-200", pad, replay });
        const b = codec({ s4, h4: "100-200", pad, replay });
        try {
          setRandomSource(counterSource(seed));
          const framed = a.encode(inner);
          setRandomSource(counterSource(seed));
          const buf = new Uint8Array(2048).fill(0x55);
          const n = b.encodeInto(buf, inner);
          if (framed === null) return assertEquals(n, -1);
          assertEquals(buf.subarray(0, n), framed);
          // decodeOffset finds the inner packet inside a view that does not start at byte 0.
          const host = new Uint8Array(lead + n);
          host.set(framed, lead);
          const view = host.subarray(lead);
          const o = b.decodeOffset(view);
          assertEquals(view.subarray(o, o + b.innerLength), inner);
          assertEquals(a.decode(framed), inner);
          assertEquals(b.decodeOffset(view), replay ? -1 : o, "a replayed counter is refused");
          assertEquals(b.decodeOffset(view.subarray(0, s4 + 5)), -1);
        } finally {
          setRandomSource(null);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("fillRandomAt fills exactly its range; Framer.frameType matches decodeFrame", () => {
  const b = new Uint8Array(300);
  fillRandomAt(b, 10, 200);
  assertEquals(b.subarray(0, 10), new Uint8Array(10));
  assertEquals(b.subarray(210), new Uint8Array(90));
  assertEquals(b.subarray(10, 210).some((x) => x !== 0), true);
  const f = new Framer(obfParams({ s1: 5, s4: 9, h1: "10-20", h4: "30" }));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (d) => {
      assertEquals(f.frameType(d), f.decodeFrame(d)?.type ?? 0);
    }),
  );
  assertEquals(f.frameType(f.encodeFrame(MessageType.Transport, new Uint8Array(3))), MessageType.Transport);
});
