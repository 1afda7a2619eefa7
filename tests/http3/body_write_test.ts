// Writing message bodies as DATA frames (RFC 9114 §7.2.1): the byte-stream path that reads into
// reused buffers with room for the frame header, and the plain chunk path, checked by parsing the
// frames a slow sink received.
import { assert, assertEquals } from "../_util/assert.ts";
import { FRAME, FrameReader } from "../../src/http3/frames.ts";
import { writeBody } from "../../src/http3/message_io.ts";

/**
 * A sink that finishes each write after a delay and only then copies it, like a QUIC stream. It
 * queues up to 4 writes, so `writer.ready` alone does not mean the previous write is done.
 */
function slowSink() {
  const writes: Uint8Array[] = [];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      await new Promise((r) => setTimeout(r, 1));
      writes.push(chunk.slice());
    },
  }, new CountQueuingStrategy({ highWaterMark: 4 }));
  return { writes, writer: stream.getWriter() };
}

/** Parses DATA frames out of `writes`; returns the payload and the frame count. */
function payloadOf(writes: Uint8Array[]): { payload: Uint8Array; frames: number } {
  const r = new FrameReader();
  const parts: Uint8Array[] = [];
  let frames = 0;
  for (const w of writes) {
    r.push(w);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === "header") {
        assertEquals(ev.type, FRAME.DATA);
        frames++;
      } else if (ev.kind === "data") parts.push(ev.data.slice());
    }
  }
  assert(r.atFrameBoundary);
  const payload = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) payload.set(p, o), o += p.length;
  return { payload, frames };
}

/** `n` bytes whose values depend on their position (so reordering or overwriting shows). */
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 16)) & 0xff;
  return b;
}

Deno.test("writeBody() sends a byte stream as one DATA frame per read, never reusing a buffer in flight", async () => {
  const data = pattern(3 * 1048576 + 12345);
  // A byte source answering each BYOB request with up to 700 KiB, like a file read.
  let at = 0;
  const body = new ReadableStream({
    type: "bytes",
    pull(c) {
      const req = c.byobRequest!;
      const view = req.view!;
      const n = Math.min(view.byteLength, 700 * 1024, data.length - at);
      if (n === 0) {
        c.close();
        req.respond(0);
        return;
      }
      new Uint8Array(view.buffer, view.byteOffset, n).set(data.subarray(at, at + n));
      at += n;
      req.respond(n);
    },
  });
  const sink = slowSink();
  assertEquals(await writeBody(sink.writer, body), data.length);
  await sink.writer.close(); // writes are pipelined: wait for the last one
  const { payload, frames } = payloadOf(sink.writes);
  // Reads of 64, 128, 256, 512 KiB (doubling), then 700 KiB (the source's limit) × 3 and the rest.
  assertEquals(frames, 8);
  assertEquals(sink.writes.length, frames); // header and payload in one write each
  assert(payload.length === data.length && payload.every((b, i) => b === data[i]), "payload differs");
});

Deno.test("writeBody() sends a file's readable byte stream intact", async () => {
  const path = await Deno.makeTempFile();
  const data = pattern(2 * 1048576 + 777);
  await Deno.writeFile(path, data);
  try {
    const file = await Deno.open(path);
    const sink = slowSink();
    assertEquals(await writeBody(sink.writer, file.readable), data.length);
    await sink.writer.close();
    const { payload } = payloadOf(sink.writes);
    assert(payload.length === data.length && payload.every((b, i) => b === data[i]), "payload differs");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("writeBody() frames plain chunks: small ones copied behind their header, large ones split", async () => {
  const small = pattern(1000);
  const large = pattern(1048576 + 100); // over MAX_DATA_FRAME: two frames
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(small);
      c.enqueue(new Uint8Array(0));
      c.enqueue(large);
      c.close();
    },
  });
  const sink = slowSink();
  assertEquals(await writeBody(sink.writer, body), small.length + large.length);
  await sink.writer.close();
  const { payload, frames } = payloadOf(sink.writes);
  assertEquals(frames, 3);
  // small: one write; the 1 MiB frame: header + payload; the 100-byte rest: one write.
  assertEquals(sink.writes.length, 4);
  assertEquals(Array.from(payload.subarray(0, 1000)), Array.from(small));
  assert(payload.subarray(1000).every((b, i) => b === large[i]));
});

Deno.test("writeBody() stops and cancels the body when the signal aborts mid-read", async () => {
  let cancelled: unknown;
  const body = new ReadableStream({
    type: "bytes",
    pull: () => new Promise(() => {}), // never answers
    cancel(reason) {
      cancelled = reason;
    },
  });
  const ac = new AbortController();
  const sink = slowSink();
  const writing = writeBody(sink.writer, body, ac.signal);
  ac.abort(new Error("stop"));
  const e = await writing.then(() => undefined, (e) => e);
  assert(e instanceof Error && e.message === "stop", String(e));
  assert(cancelled instanceof Error);
});
