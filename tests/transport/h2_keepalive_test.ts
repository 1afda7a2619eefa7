/**
 * HTTP/2 liveness of the `http`/`grpc` transports: the pure decisions, then PINGs, PING
 * timeouts and the server idle close on real `node:http2` sessions over an in-memory pipe.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import { pipePair } from "../_util/pipe.ts";
import type { Stream } from "../../src/adapter/types.ts";
import { connectH2, openH2Stream, serveH2 } from "../../src/transport/v2rayhttp/h2.ts";
import { nextClientStep, nextServerStep } from "../../src/transport/v2rayhttp/h2_keepalive.ts";
import { clientKeepAlive, v2rayTransportSchema } from "../../src/transport/v2ray.ts";

const cfg = { idleMs: 1000, pingTimeoutMs: 300, permitWithoutStream: false };

Deno.test("nextClientStep() pings after read silence, closes when the PING goes unanswered", () => {
  const s = { lastReadMs: 0, pingSentMs: null, streams: 1 };
  assertEquals(nextClientStep(cfg, s, 400), { kind: "wait", ms: 600 });
  assertEquals(nextClientStep(cfg, s, 1000), { kind: "ping" });
  assertEquals(nextClientStep(cfg, { ...s, pingSentMs: 1000 }, 1100), { kind: "wait", ms: 200 });
  assertEquals(nextClientStep(cfg, { ...s, pingSentMs: 1000 }, 1300), { kind: "close" });
  // grpc without permit_without_stream stays quiet with no open stream; http always pings.
  assertEquals(nextClientStep(cfg, { ...s, streams: 0 }, 5000), { kind: "wait", ms: 1000 });
  assertEquals(nextClientStep({ ...cfg, permitWithoutStream: true }, { ...s, streams: 0 }, 5000), {
    kind: "ping",
  });
});

Deno.test("nextServerStep() closes only after idle_timeout without open streams", () => {
  assertEquals(nextServerStep(1000, 2, 0, 9999), { kind: "wait", ms: 1000 });
  assertEquals(nextServerStep(1000, 0, 500, 900), { kind: "wait", ms: 600 });
  assertEquals(nextServerStep(1000, 0, 500, 1500), { kind: "close" });
});

Deno.test("transport options: durations parse to ms; keep-alive only with idle_timeout", () => {
  const grpc = v2rayTransportSchema.parse({ type: "grpc", idle_timeout: "15s", ping_timeout: "2s" });
  assertEquals(clientKeepAlive(grpc), { idleMs: 15_000, pingTimeoutMs: 2000, permitWithoutStream: false });
  const http = v2rayTransportSchema.parse({ type: "http", idle_timeout: "1m" });
  assertEquals(clientKeepAlive(http), { idleMs: 60_000, pingTimeoutMs: 15_000, permitWithoutStream: true });
  assertEquals(clientKeepAlive(v2rayTransportSchema.parse({ type: "grpc" })), undefined);
  assert(!v2rayTransportSchema.safeParse({ type: "grpc", idle_timeout: "soon" }).success);
});

const ka = { idleMs: 40, pingTimeoutMs: 80, permitWithoutStream: true };

/** Counts PING frames without ACK (RFC 9113 §6.7: type 6, flag 1 = ACK) in a client's output. */
function pingCounter(s: Stream): { stream: Stream; pings(): number } {
  const bytes: number[] = [];
  const pings = () => {
    let n = 0;
    for (let o = 24; o + 9 <= bytes.length;) {
      const len = (bytes[o] << 16) | (bytes[o + 1] << 8) | bytes[o + 2];
      if (bytes[o + 3] === 6 && !(bytes[o + 4] & 1)) n++;
      o += 9 + len;
    }
    return n;
  };
  return { stream: { ...s, read: (p) => s.read(p), write: (p) => (bytes.push(...p), s.write(p)) }, pings };
}

Deno.test("a client PINGs a silent but live server and keeps the connection", async () => {
  const [a, b] = pipePair();
  const served = serveH2(b, (r) => r.reject(404));
  const tap = pingCounter(a);
  const session = await connectH2(tap.stream, "http://localhost", ka);
  await new Promise((r) => setTimeout(r, 300));
  assert(tap.pings() >= 2, `${tap.pings()} PINGs in 300 ms with a 40 ms idle timeout`);
  assertEquals(session.destroyed, false, "PINGs were acknowledged");
  session.destroy();
  b.close();
  await served;
});

Deno.test("a client closes the connection when its PING goes unanswered", async () => {
  const [a, b] = pipePair();
  // The peer reads and never answers: no SETTINGS, no PING acknowledgement.
  const sink = (async () => {
    const buf = new Uint8Array(4096);
    while (await b.read(buf) !== null) { /* discard */ }
  })();
  const session = await connectH2(a, "http://localhost", ka);
  const t0 = performance.now();
  await new Promise<void>((r) => session.once("close", () => r()));
  const took = performance.now() - t0;
  assert(took >= 100 && took < 2000, `closed after ${took} ms`);
  b.close();
  await sink;
});

Deno.test("a server with idle_timeout sends GOAWAY once no stream is open, not before", async () => {
  const [a, b] = pipePair();
  const served = serveH2(b, (r) => r.accept(), { idleMs: 60 });
  const session = await connectH2(a, "http://localhost");
  let goaway = -1;
  session.on("goaway", () => goaway = performance.now());
  const stream = openH2Stream(session, { ":method": "POST", ":path": "/", ":authority": "localhost" });
  await stream.write(new Uint8Array([1]));
  await new Promise((r) => setTimeout(r, 200));
  assertEquals(goaway, -1, "no GOAWAY while a stream is open");
  const closedAt = performance.now();
  stream.close();
  await new Promise<void>((r) => session.once("goaway", () => r()));
  assert(goaway - closedAt >= 40, `GOAWAY ${goaway - closedAt} ms after the last stream closed`);
  session.destroy();
  b.close();
  await served;
});
