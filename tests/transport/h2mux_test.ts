/**
 * sing-mux h2mux sessions over an in-memory pipe: the client opens CONNECT streams for
 * `localhost` over prior-knowledge HTTP/2 (sing-mux `h2mux.go`), the server accepts them, data
 * flows both ways with half-close, and closing the connection ends both sessions.
 */
import { assertEquals } from "../_util/assert.ts";
import { pipePair } from "../_util/pipe.ts";
import type { Stream } from "../../src/adapter/types.ts";
import { H2MuxClientSession, type H2MuxServerSession } from "../../src/transport/mux/h2mux.ts";
import { serveH2 } from "../../src/transport/v2rayhttp/h2.ts";
import { newSession } from "../../src/transport/mux/session.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readAll(s: Stream): Promise<string> {
  let out = "";
  const b = new Uint8Array(4096);
  for (let n = await s.read(b); n !== null; n = await s.read(b)) out += dec.decode(b.subarray(0, n));
  return out;
}

Deno.test("h2mux client streams are CONNECT requests for localhost over prior-knowledge HTTP/2", async () => {
  const [a, b] = pipePair();
  // The first bytes on the wire are the HTTP/2 client preface (RFC 9113 §3.4).
  let first = "";
  const tapped: Stream = {
    ...a,
    read: (p) => a.read(p),
    write: (p) => {
      if (!first) first = dec.decode(p.subarray(0, 24));
      return a.write(p);
    },
  };
  const seen: Record<string, unknown>[] = [];
  const served = serveH2(b, (r) => {
    seen.push({ method: r.headers[":method"], authority: r.headers[":authority"], path: r.headers[":path"] });
    r.accept().close();
  });
  const client = await H2MuxClientSession.connect(tapped);
  const s = client.open();
  await s.write(enc.encode("x"));
  await s.read(new Uint8Array(1)).catch(() => null);
  assertEquals(first, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  assertEquals(seen, [{ method: "CONNECT", authority: "localhost", path: undefined }]);
  s.close();
  client.close();
  b.close();
  await served;
});

Deno.test("h2mux sessions carry several streams both ways, count them, and end together", async () => {
  const [a, b] = pipePair();
  const server = await newSession("h2mux", b, false) as H2MuxServerSession;
  const client = await newSession("h2mux", a, true) as H2MuxClientSession;
  const echo = (async () => {
    for (let s = await server.accept(); s; s = await server.accept()) {
      const peer = s;
      (async () => {
        const text = await readAll(peer);
        await peer.write(enc.encode(`echo:${text}`));
        await peer.closeWrite();
      })();
    }
  })();
  const streams = [client.open(), client.open(), client.open()];
  assertEquals(client.numStreams, 3);
  const replies = await Promise.all(streams.map(async (s, i) => {
    await s.write(enc.encode(`s${i}-`.repeat(10_000)));
    await s.closeWrite();
    return await readAll(s);
  }));
  replies.forEach((r, i) => assertEquals(r, `echo:${`s${i}-`.repeat(10_000)}`));
  for (const s of streams) s.close();
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(client.numStreams, 0);
  assertEquals(client.isClosed, false);
  client.close();
  assertEquals(client.isClosed, true);
  await echo;
  assertEquals(server.isClosed, true);
  assertEquals(await server.accept(), null);
});
