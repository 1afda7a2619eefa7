import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { pipePair } from "../_util/pipe.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ProtocolError } from "../../src/common/errors.ts";
import type { Stream } from "../../src/adapter/types.ts";
import {
  decodeMuxRequest,
  decodeStreamRequest,
  decodeStreamResponse,
  encodeMuxRequest,
  encodeStreamRequest,
  encodeStreamResponse,
  PaddingDecoder,
  PaddingEncoder,
} from "../../src/transport/mux/protocol.ts";
import { decodeSmuxFrame, encodeSmuxFrame, SMUX_CMD } from "../../src/transport/mux/smux.ts";
import { decodeYamuxFrame, encodeYamuxFrame, YAMUX_FLAG, YAMUX_TYPE } from "../../src/transport/mux/yamux.ts";
import { SmuxSession, YamuxSession } from "../../src/transport/mux/session.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("sing-mux session request known answers (version 0, version 1 ± padding)", () => {
  assertEquals(hex(encodeMuxRequest({ version: 0, protocol: 0, padding: false })), "0000");
  assertEquals(hex(encodeMuxRequest({ version: 0, protocol: 1, padding: false })), "0001");
  assertEquals(hex(encodeMuxRequest({ version: 1, protocol: 1, padding: false })), "010100");
  const padded = encodeMuxRequest({ version: 1, protocol: 0, padding: true }, 300);
  assertEquals(hex(padded.subarray(0, 5)), "010001012c");
  assertEquals(padded.length, 305);
  assertEquals(decodeMuxRequest(padded), { value: { version: 1, protocol: 0, padding: true }, length: 305 });
  assertEquals(decodeMuxRequest(padded.subarray(0, 304)), null);
  assertEquals(decodeMuxRequest(unhex("0001")), {
    value: { version: 0, protocol: 1, padding: false },
    length: 2,
  });
  assertThrows(() => decodeMuxRequest(unhex("0200")), ProtocolError);
  assertThrows(() => decodeMuxRequest(unhex("010002")), ProtocolError);
});

Deno.test("sing-mux stream request and response known answers", () => {
  // TCP to 1.2.3.4:80: flags 0000, ATYP 01, address, port 0050.
  assertEquals(
    hex(
      encodeStreamRequest({ network: "tcp", destination: { host: "1.2.3.4", port: 80 }, packetAddr: false }),
    ),
    "0000010102030400" + "50".slice(0, 0) + "50",
  );
  // UDP with packet addresses to the mux placeholder domain.
  const udp = encodeStreamRequest({
    network: "udp",
    destination: { host: "sp.mux.sing-box.arpa", port: 444 },
    packetAddr: true,
  });
  assertEquals(hex(udp.subarray(0, 4)), "00030314");
  assertEquals(hex(udp.subarray(udp.length - 2)), "01bc");
  assertEquals(decodeStreamRequest(udp)!.value, {
    network: "udp",
    destination: { host: "sp.mux.sing-box.arpa", port: 444 },
    packetAddr: true,
  });
  assertEquals(decodeStreamRequest(udp.subarray(0, 5)), null);
  assertEquals(hex(encodeStreamResponse(0)), "00");
  assertEquals(hex(encodeStreamResponse(1, "no")), "01026e6f");
  assertEquals(decodeStreamResponse(unhex("01026e6f"))!.value, { status: 1, message: "no" });
  assertEquals(decodeStreamResponse(unhex("01026e")), null);
  assertThrows(() => decodeStreamResponse(unhex("05")), ProtocolError);
});

Deno.test("smux v1 frame known answers: little-endian length and stream ID", () => {
  assertEquals(hex(encodeSmuxFrame(SMUX_CMD.SYN, 3)), "0100000003000000");
  assertEquals(hex(encodeSmuxFrame(SMUX_CMD.PSH, 3, unhex("aabb"))), "0102020003000000aabb");
  assertEquals(hex(encodeSmuxFrame(SMUX_CMD.FIN, 0x01020304)), "0101000004030201");
  const f = decodeSmuxFrame(unhex("0102020005000000aabbcc"))!;
  assertEquals([f.value.cmd, f.value.sid, hex(f.value.data), f.length], [2, 5, "aabb", 10]);
  assertEquals(decodeSmuxFrame(unhex("01020200050000")), null);
  assertEquals(decodeSmuxFrame(unhex("0102020005000000aa")), null);
  assertThrows(() => decodeSmuxFrame(unhex("0202000005000000")), ProtocolError);
  assertThrows(() => decodeSmuxFrame(unhex("0109000005000000")), ProtocolError);
});

Deno.test("yamux frame known answers: big-endian header, length only carried by data frames", () => {
  assertEquals(
    hex(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.SYN, 1, 0)),
    "000100010000000100000000",
  );
  assertEquals(hex(encodeYamuxFrame(YAMUX_TYPE.DATA, 0, 2, unhex("ff"))), "00000000000000020000000" + "1ff");
  assertEquals(hex(encodeYamuxFrame(YAMUX_TYPE.PING, YAMUX_FLAG.ACK, 0, 7)), "000200020000000000000007");
  const wu = decodeYamuxFrame(unhex("000100040000000300040000"))!;
  assertEquals([wu.value.type, wu.value.flags, wu.value.sid, wu.value.length, wu.length], [
    1,
    4,
    3,
    0x40000,
    12,
  ]);
  assertEquals(decodeYamuxFrame(unhex("00000000000000020000000" + "2ff")), null);
  assertThrows(() => decodeYamuxFrame(unhex("010000000000000000000000")), ProtocolError);
  assertThrows(() => decodeYamuxFrame(unhex("000400000000000000000000")), ProtocolError);
});

Deno.test("padding: the first 16 writes become records (u16 length, u16 padding), later writes pass through", () => {
  const enc = new PaddingEncoder(() => 256);
  const first = enc.encode(unhex("0102"));
  assertEquals(hex(first.subarray(0, 6)), "000201000102");
  assertEquals(first.length, 4 + 2 + 256);
  const wire: Uint8Array[] = [first];
  for (let i = 1; i < 16; i++) wire.push(enc.encode(new Uint8Array([i])));
  const raw = enc.encode(unhex("ffee"));
  assertEquals(hex(raw), "ffee");
  wire.push(raw);
  // Decode everything, fed one byte at a time.
  const q = new ByteQueue(16);
  const d = new PaddingDecoder();
  const out: number[] = [];
  for (const w of wire) {
    for (const b of w) {
      q.push(new Uint8Array([b]));
      for (let c = d.decode(q); c; c = d.decode(q)) out.push(...c);
    }
  }
  assertEquals(out, [1, 2, ...Array.from({ length: 15 }, (_, i) => i + 1), 0xff, 0xee]);
});

/** Records every write to a stream. */
function tap(s: Stream, log: Uint8Array[]): Stream {
  return { ...s, read: (p) => s.read(p), write: (p) => (log.push(p.slice()), s.write(p)) };
}

async function readAll(s: Stream): Promise<Uint8Array> {
  const parts: number[] = [];
  const b = new Uint8Array(70000);
  for (let n = await s.read(b); n !== null; n = await s.read(b)) parts.push(...b.subarray(0, n));
  return new Uint8Array(parts);
}

for (const [name, Session] of [["smux", SmuxSession], ["yamux", YamuxSession]] as const) {
  Deno.test(`${name} session: streams open with the right IDs, carry data both ways, half-close, and end`, async () => {
    const [a, b] = pipePair();
    const wire: Uint8Array[] = [];
    const client = new Session(tap(a, wire), true);
    const server = new Session(b, false);
    const s1 = client.open();
    const s2 = client.open();
    assertEquals([s1.id, s2.id], name === "smux" ? [3, 5] : [1, 3]);
    // The first frame on the wire opens stream s1.
    await new Promise((r) => setTimeout(r, 0));
    assertEquals(
      hex(wire[0]),
      name === "smux" ? "0100000003000000" : "000100010000000100000000",
    );
    const big = new Uint8Array(600_000).map((_, i) => i % 251);
    const w = (async () => {
      await s1.write(big);
      await s1.closeWrite();
    })();
    const r1 = (await server.accept())!;
    const r2 = (await server.accept())!;
    assertEquals([r1.id, r2.id], [s1.id, s2.id]);
    const got = await readAll(r1);
    await w;
    assertEquals(got.length, big.length);
    assertEquals(hex(got.subarray(599_990)), hex(big.subarray(599_990)));
    await r1.write(new TextEncoder().encode("reply"));
    await r1.closeWrite();
    assertEquals(new TextDecoder().decode(await readAll(s1)), "reply");
    assertEquals(client.numStreams, 1, "s1 is gone after FIN both ways");
    s2.close();
    r2.close();
    client.close();
    await client.done;
    await server.done;
    assertEquals(await server.accept(), null);
  });
}

Deno.test("yamux: an incoming SYN is acknowledged at once, pings are answered, windows are enforced", async () => {
  const [a, b] = pipePair();
  const server = new YamuxSession(b, false);
  const q = new ByteQueue();
  const buf = new Uint8Array(1024);
  const next = async () => {
    for (;;) {
      const f = decodeYamuxFrame(q.peek());
      if (f) {
        q.consume(f.length);
        return f.value;
      }
      q.commit((await a.read(q.reserve(1024)))!);
    }
  };
  await a.write(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.SYN, 1, 0));
  const ack = await next();
  assertEquals([ack.type, ack.flags, ack.sid], [YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.ACK, 1]);
  await a.write(encodeYamuxFrame(YAMUX_TYPE.PING, YAMUX_FLAG.SYN, 0, 0xabcdef));
  const pong = await next();
  assertEquals([pong.type, pong.flags, pong.length], [YAMUX_TYPE.PING, YAMUX_FLAG.ACK, 0xabcdef]);
  // 200 KiB of data, then the reader consumes it: one window update of at least 128 KiB.
  const s = (await server.accept())!;
  await a.write(encodeYamuxFrame(YAMUX_TYPE.DATA, 0, 1, new Uint8Array(200 * 1024)));
  let read = 0;
  while (read < 200 * 1024) read += (await s.read(buf))!;
  const wu = await next();
  assertEquals([wu.type, wu.sid], [YAMUX_TYPE.WINDOW_UPDATE, 1]);
  assert(wu.length >= 128 * 1024 && wu.length <= 200 * 1024, `delta ${wu.length}`);
  // Exceeding the window ends the session.
  await a.write(
    encodeYamuxFrame(YAMUX_TYPE.DATA, 0, 1, new Uint8Array(256 * 1024 + wu.length - 200 * 1024 + 1)),
  );
  await server.done;
  assert(server.isClosed);
  a.close();
});

Deno.test("fuzz: mux decoders never crash on random bytes", () => {
  const safe = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      safe(() => decodeMuxRequest(b));
      safe(() => decodeStreamRequest(b));
      safe(() => decodeStreamResponse(b));
      safe(() => decodeSmuxFrame(b));
      safe(() => decodeYamuxFrame(b));
      const q = new ByteQueue();
      q.push(b);
      const d = new PaddingDecoder();
      for (let i = 0; i < 20 && d.decode(q); i++);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 0xffffffff }), (data, sid) => {
      const y = decodeYamuxFrame(encodeYamuxFrame(0, 0, sid, data))!;
      const s = decodeSmuxFrame(encodeSmuxFrame(2, sid, data))!;
      return y.value.sid === sid && hex(y.value.data) === hex(data) && s.value.sid === sid &&
        hex(s.value.data) === hex(data);
    }),
  );
});

Deno.test("multiplex options: smux/yamux/h2mux accepted (h2mux the default), brutal refused with a clear error", async () => {
  const { outboundMultiplexSchema, inboundMultiplexSchema, muxClientFor } = await import(
    "../../src/protocol/shared_options.ts"
  );
  for (const protocol of ["smux", "yamux", "h2mux", undefined]) {
    assert(outboundMultiplexSchema.safeParse({ enabled: true, protocol, padding: true }).success);
  }
  assert(outboundMultiplexSchema.safeParse({ enabled: false }).success);
  const bad = outboundMultiplexSchema.safeParse({ enabled: true, protocol: "mplex" });
  assert(!bad.success && bad.error.issues[0].message.includes("h2mux"));
  const brutal = outboundMultiplexSchema.safeParse({
    enabled: true,
    brutal: { enabled: true, up_mbps: 100, down_mbps: 100 },
  });
  assert(!brutal.success && brutal.error.issues[0].message.includes("tcp_brutal"));
  assertEquals(brutal.error.issues[0].path, ["brutal"]);
  assert(
    outboundMultiplexSchema.safeParse({ enabled: true, brutal: { enabled: false, up_mbps: 1 } }).success,
  );
  assert(!outboundMultiplexSchema.safeParse({ enabled: true, brutal: { enabled: false, up: 1 } }).success);
  assert(inboundMultiplexSchema.safeParse({ enabled: true, padding: true }).success);
  assert(!inboundMultiplexSchema.safeParse({ enabled: true, brutal: { enabled: true } }).success);
  // The pool speaks h2mux when no protocol is given (sing-box default).
  let requested = -1;
  const [a, b] = pipePair();
  const pool = muxClientFor({ enabled: true }, () => Promise.resolve(a))!;
  const req = (async () => {
    const buf = new Uint8Array(2);
    await b.read(buf);
    requested = buf[1];
  })();
  const opened = pool.dial({ host: "1.2.3.4", port: 80 }).catch(() => null);
  await req;
  assertEquals(requested, 2);
  pool.close();
  b.close();
  (await opened)?.close();
});
