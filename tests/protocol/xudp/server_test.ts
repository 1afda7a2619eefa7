/**
 * The Mux.Cool server (VMess/VLESS command 3) against a fake router over an in-memory pipe:
 * TCP and XUDP sessions side by side, per-datagram addresses, End handling and bad input.
 */
import { assertEquals } from "../../_util/assert.ts";
import { pipePair } from "../../_util/pipe.ts";
import type { ConnectionRouter, Metadata, Stream } from "../../../src/adapter/types.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import {
  decodeMuxCoolFrame,
  encodeMuxCoolFrame,
  type MuxCoolFrame,
  NETWORK_TCP,
  NETWORK_UDP,
  OPTION_DATA,
  OPTION_ERROR,
  STATUS_END,
  STATUS_KEEP,
  STATUS_NEW,
} from "../../../src/protocol/xudp/frame.ts";
import { serveMuxCool } from "../../../src/protocol/xudp/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const BASE = { inbound: "in", inboundType: "vmess", source: { host: "127.0.0.1", port: 1 } };

/** Echoes TCP data with a "tcp:" prefix and datagrams with "udp:", recording metadata. */
function echoRouter(seen: Metadata[]): ConnectionRouter {
  return {
    async routeConnection(s, md) {
      seen.push(md);
      const b = new Uint8Array(1024);
      for (let n = await s.read(b); n !== null; n = await s.read(b)) {
        await s.write(enc.encode(`tcp:${dec.decode(b.subarray(0, n))}`));
      }
      await s.closeWrite();
    },
    async routePacketConnection(pc, md) {
      seen.push(md);
      for (let p = await pc.readPacket(); p; p = await pc.readPacket()) {
        await pc.writePacket(enc.encode(`udp:${dec.decode(p.data)}`), p.addr);
      }
    },
  };
}

/** Reads frames from the client end of the pipe. */
function frameReader(s: Stream) {
  const q = new ByteQueue();
  return async (): Promise<MuxCoolFrame | null> => {
    for (;;) {
      const d = decodeMuxCoolFrame(q.peek());
      if (d) {
        const f = { ...d.value, data: d.value.data?.slice() };
        q.consume(d.length);
        return f;
      }
      const n = await s.read(q.reserve(4096));
      if (n === null) return null;
      q.commit(n);
    }
  };
}

Deno.test("serveMuxCool() routes TCP and XUDP sessions; UDP replies name each datagram's source", async () => {
  const [client, server] = pipePair();
  const seen: Metadata[] = [];
  const errors: string[] = [];
  const done = serveMuxCool(server, echoRouter(seen), BASE, (e) => errors.push(e));
  const next = frameReader(client);
  const send = (f: MuxCoolFrame) => client.write(encodeMuxCoolFrame(f));
  const a = { host: "10.0.0.1", port: 53 }, b = { host: "example.com", port: 5353 };

  await send({
    sessionId: 0,
    status: STATUS_NEW,
    option: OPTION_DATA,
    target: { network: NETWORK_UDP, address: a },
    data: enc.encode("one"),
  });
  let f = (await next())!;
  assertEquals([f.sessionId, f.status, f.target?.address, dec.decode(f.data)], [
    0,
    STATUS_KEEP,
    a,
    "udp:one",
  ]);
  // A second destination on the same session: full-cone, one association.
  await send({
    sessionId: 0,
    status: STATUS_KEEP,
    option: OPTION_DATA,
    target: { network: NETWORK_UDP, address: b },
    data: enc.encode("two"),
  });
  f = (await next())!;
  assertEquals([f.target?.address, dec.decode(f.data)], [b, "udp:two"]);

  await send({
    sessionId: 1,
    status: STATUS_NEW,
    option: 0,
    target: { network: NETWORK_TCP, address: { host: "1.2.3.4", port: 80 } },
  });
  await send({ sessionId: 1, status: STATUS_KEEP, option: OPTION_DATA, data: enc.encode("hi") });
  f = (await next())!;
  assertEquals([f.sessionId, f.target, dec.decode(f.data)], [1, undefined, "tcp:hi"]);
  // The client ends the TCP session: the echo finishes and answers with End.
  await send({ sessionId: 1, status: STATUS_END, option: 0 });
  f = (await next())!;
  assertEquals([f.sessionId, f.status], [1, STATUS_END]);

  // Data for a session that does not exist is refused with End + error.
  await send({ sessionId: 9, status: STATUS_KEEP, option: OPTION_DATA, data: enc.encode("x") });
  f = (await next())!;
  assertEquals([f.sessionId, f.status, f.option], [9, STATUS_END, OPTION_ERROR]);

  assertEquals(seen.map((m) => [m.network, m.destination]), [["udp", a], ["tcp", {
    host: "1.2.3.4",
    port: 80,
  }]]);
  assertEquals(seen[0].inbound, "in");
  client.close();
  await done;
  assertEquals(errors, []);
});

Deno.test("serveMuxCool() ends the connection on a malformed frame and reports it", async () => {
  const [client, server] = pipePair();
  const seen: Metadata[] = [];
  const errors: string[] = [];
  const done = serveMuxCool(server, echoRouter(seen), BASE, (e) => errors.push(e));
  await client.write(new Uint8Array([0, 2, 0, 0]));
  await done;
  assertEquals(errors.length, 1);
  assertEquals(errors[0].includes("metadata length"), true, errors[0]);
  assertEquals(await client.read(new Uint8Array(8)), null);
  client.close();
});
