/**
 * QuicStream over a real Deno QUIC connection: `write` hands its buffer to the stream without a
 * copy, so a caller that reuses its buffer after each awaited write must still deliver every byte
 * as it was at the write.
 */
import { assertEquals } from "./_assert.ts";
import { generateServerCertificate } from "../../src/transport/paniq/cert.ts";
import { QuicStream } from "../../src/transport/paniq/quic_stream.ts";

Deno.test("QuicStream.write: a reused buffer is free again once the write resolves", async () => {
  const { certPem, keyPem, der } = await generateServerCertificate();
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>));
  const ep = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = ep.listen({ alpnProtocols: ["t"], cert: certPem, key: keyPem });
  const CHUNK = 64 * 1024, COUNT = 64;
  const received = (async () => {
    const conn = await listener.accept();
    const bidi = (await conn.incomingBidirectionalStreams.getReader().read()).value!;
    const s = new QuicStream(bidi);
    const out = new Uint8Array(CHUNK * COUNT);
    let n = 0;
    for (;;) {
      const r = await s.read(out.subarray(n));
      if (r === null) break;
      n += r;
    }
    s.close();
    conn.close();
    return out.subarray(0, n);
  })();
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port: (ep.addr as Deno.NetAddr).port,
    alpnProtocols: ["t"],
    serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
  } as Deno.ConnectQuicOptions<false>);
  const s = new QuicStream(await conn.createBidirectionalStream());
  const buf = new Uint8Array(CHUNK);
  for (let i = 0; i < COUNT; i++) {
    buf.fill(i + 1);
    await s.write(buf);
    buf.fill(0xff); // overwritten at once: must not reach the peer
  }
  await s.closeWrite();
  const got = await received;
  assertEquals(got.length, CHUNK * COUNT);
  for (let i = 0; i < COUNT; i++) {
    const part = got.subarray(i * CHUNK, (i + 1) * CHUNK);
    assertEquals(part.every((b) => b === i + 1), true, `chunk ${i} changed after its write`);
  }
  s.close();
  conn.close();
  ep.close();
});
