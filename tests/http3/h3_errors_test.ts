// RFC 9114 §8 error paths over real Deno QUIC: a hand-rolled peer sends malformed frames, frames
// on the wrong stream, missing or duplicate critical streams, bad QPACK, and checks the
// CONNECTION_CLOSE code Switchyard's server (and client) answers with.
import { assert, assertEquals } from "../_util/assert.ts";
import { testCerts } from "./_certs.ts";
import { H3_ERROR } from "../../src/http3/errors.ts";
import {
  encodeFrame,
  encodePushPromiseFrame,
  encodeSettingsFrame,
  encodeVarintFrame,
  FRAME,
  greaseType,
} from "../../src/http3/frames.ts";
import { serveH3 } from "../../src/http3/server.ts";
import { H3Client, type H3ClientOptions } from "../../src/http3/client.ts";
import { QpackEncoder } from "../../src/http3/qpack/encoder.ts";
import { concat } from "../../src/http3/session.ts";
import { varintBytes } from "../../src/http3/varint.ts";
import { connectRaw, request, requestHeaders, send, SETTINGS, uni } from "./_raw.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();

/** Starts a server, connects a raw QUIC client, runs `script`, returns the close code the server sent. */
async function serverCloseCode(script: (conn: Deno.QuicConn) => Promise<void>): Promise<number> {
  const server = serveH3(
    { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem, gracefulTimeout: 100 },
    () => new Response("ok"),
  );
  const conn = await connectRaw(server.addr.port);
  try {
    await script(conn);
    const info = await Promise.race([
      conn.closed,
      new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error("server did not close the connection")), 5000)
      ),
    ]);
    return info.closeCode;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
    await server.shutdown();
  }
}

const cases: [string, number, (c: Deno.QuicConn) => Promise<void>][] = [
  ["first control frame is not SETTINGS", H3_ERROR.MISSING_SETTINGS, async (c) => {
    await send(c, uni(0x00, encodeVarintFrame(FRAME.GOAWAY, 0)));
  }],
  ["unknown frame before SETTINGS", H3_ERROR.MISSING_SETTINGS, async (c) => {
    await send(c, uni(0x00, encodeFrame(greaseType(3), new Uint8Array(2)), SETTINGS));
  }],
  ["second SETTINGS frame", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, SETTINGS));
  }],
  ["DATA on the control stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeFrame(FRAME.DATA, new Uint8Array(3))));
  }],
  ["HEADERS on the control stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, requestHeaders()));
  }],
  ["PUSH_PROMISE sent to a server", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await request(c, concat([encodePushPromiseFrame(0, new Uint8Array([0, 0]))]));
  }],
  ["reserved HTTP/2 frame type on the control stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeFrame(0x06, new Uint8Array(8))));
  }],
  ["truncated SETTINGS payload", H3_ERROR.FRAME_ERROR, async (c) => {
    await send(c, uni(0x00, encodeFrame(FRAME.SETTINGS, new Uint8Array([0x01, 0x50]))));
  }],
  ["GOAWAY with trailing bytes", H3_ERROR.FRAME_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeFrame(FRAME.GOAWAY, new Uint8Array([0, 0]))));
  }],
  ["reserved HTTP/2 setting", H3_ERROR.SETTINGS_ERROR, async (c) => {
    await send(c, uni(0x00, encodeSettingsFrame([[0x04, 100]])));
  }],
  ["duplicate setting", H3_ERROR.SETTINGS_ERROR, async (c) => {
    await send(c, uni(0x00, encodeSettingsFrame([[0x01, 0], [0x01, 0]])));
  }],
  ["duplicate control stream", H3_ERROR.STREAM_CREATION_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x00, SETTINGS));
  }],
  ["duplicate QPACK encoder stream", H3_ERROR.STREAM_CREATION_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x02));
    await send(c, uni(0x02));
  }],
  ["push stream opened by a client", H3_ERROR.STREAM_CREATION_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x01, varintBytes(0)));
  }],
  ["control stream closed", H3_ERROR.CLOSED_CRITICAL_STREAM, async (c) => {
    await send(c, uni(0x00, SETTINGS), true);
  }],
  ["QPACK decoder stream closed", H3_ERROR.CLOSED_CRITICAL_STREAM, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x03), true);
  }],
  ["DATA before HEADERS on a request stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await request(c, encodeFrame(FRAME.DATA, new Uint8Array(4)));
  }],
  ["SETTINGS on a request stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await request(c, SETTINGS);
  }],
  ["GOAWAY on a request stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await request(c, encodeVarintFrame(FRAME.GOAWAY, 0));
  }],
  ["reserved HTTP/2 frame on a request stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await request(c, encodeFrame(0x08, new Uint8Array(4)));
  }],
  ["HEADERS after trailers", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    const trailers = encodeFrame(FRAME.HEADERS, new Uint8Array([0, 0, 0x5f, 0x1d, 0x01, 0x31])); // x: etag-ish literal
    await request(c, concat([requestHeaders(), trailers, trailers]));
  }],
  ["request stream ends inside a frame", H3_ERROR.FRAME_ERROR, async (c) => {
    const h = requestHeaders();
    await request(c, h.subarray(0, h.length - 2));
  }],
  ["QPACK static index out of range", H3_ERROR.QPACK_DECOMPRESSION_FAILED, async (c) => {
    await request(c, encodeFrame(FRAME.HEADERS, new Uint8Array([0, 0, 0xff, 0x40])));
  }],
  ["QPACK reference to a dynamic entry below the table", H3_ERROR.QPACK_DECOMPRESSION_FAILED, async (c) => {
    // Capacity 100, insert a=b; then a section with Required Insert Count 1, Base 1 that
    // references relative index 1 (absolute -1).
    await send(c, uni(0x02, new Uint8Array([0x3f, 0x45, 0x41, 0x61, 0x01, 0x62])));
    await request(c, encodeFrame(FRAME.HEADERS, new Uint8Array([0x02, 0x00, 0x81])));
  }],
  ["QPACK capacity above the maximum", H3_ERROR.QPACK_ENCODER_STREAM_ERROR, async (c) => {
    await send(c, uni(0x02, new Uint8Array([0x3f, 0xe1, 0x7f]))); // Set Dynamic Table Capacity 16384
  }],
  ["QPACK Insert Count Increment of zero", H3_ERROR.QPACK_DECODER_STREAM_ERROR, async (c) => {
    await send(c, uni(0x03, new Uint8Array([0x00])));
  }],
  ["HEADERS frame longer than the server will buffer", H3_ERROR.EXCESSIVE_LOAD, async (c) => {
    // Type 0x01 with a 4-byte length of 4 MiB: only the header is sent.
    await request(c, new Uint8Array([0x01, 0x80, 0x40, 0x00, 0x00]), false);
  }],
  ["SETTINGS frame longer than the server will buffer", H3_ERROR.EXCESSIVE_LOAD, async (c) => {
    await send(c, uni(0x00, new Uint8Array([0x04, 0x80, 0x10, 0x00, 0x00])));
  }],
  ["MAX_PUSH_ID that shrinks", H3_ERROR.ID_ERROR, async (c) => {
    await send(
      c,
      uni(0x00, SETTINGS, encodeVarintFrame(FRAME.MAX_PUSH_ID, 10), encodeVarintFrame(FRAME.MAX_PUSH_ID, 5)),
    );
  }],
  ["CANCEL_PUSH above MAX_PUSH_ID", H3_ERROR.ID_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeVarintFrame(FRAME.CANCEL_PUSH, 3)));
  }],
  ["CANCEL_PUSH for a push ID never promised", H3_ERROR.ID_ERROR, async (c) => {
    await send(
      c,
      uni(0x00, SETTINGS, encodeVarintFrame(FRAME.MAX_PUSH_ID, 5), encodeVarintFrame(FRAME.CANCEL_PUSH, 2)),
    );
  }],
  ["CANCEL_PUSH on a request stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeVarintFrame(FRAME.MAX_PUSH_ID, 5)));
    await request(c, concat([requestHeaders(), encodeVarintFrame(FRAME.CANCEL_PUSH, 0)]));
  }],
  ["GOAWAY that grows", H3_ERROR.ID_ERROR, async (c) => {
    await send(
      c,
      uni(0x00, SETTINGS, encodeVarintFrame(FRAME.GOAWAY, 4), encodeVarintFrame(FRAME.GOAWAY, 8)),
    );
  }],
];

for (const [name, code, script] of cases) {
  Deno.test({
    name: `serveH3() closes with ${code.toString(16)} on ${name}`,
    ...opts,
    fn: async () => assertEquals((await serverCloseCode(script)).toString(16), code.toString(16)),
  });
}

Deno.test({
  name: "serveH3() ignores grease streams, unknown frames and settings, and answers",
  ...opts,
  fn: async () => {
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      (req) => new Response(`path=${new URL(req.url).pathname}`),
    );
    const conn = await connectRaw(server.addr.port);
    await send(
      conn,
      uni(
        0x00,
        encodeSettingsFrame([[greaseType(9), 77], [1, 0]]),
        encodeFrame(greaseType(1), new Uint8Array(5)),
      ),
    );
    await send(conn, uni(greaseType(4), new Uint8Array(10)));
    const grease = encodeFrame(greaseType(2), new Uint8Array(3));
    const s = await request(conn, concat([grease, requestHeaders("/x"), grease]));
    const reader = s.readable.getReader();
    let all: Uint8Array = new Uint8Array(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      all = concat([all, value]);
    }
    // HEADERS frame then DATA "path=/x".
    assert(new TextDecoder().decode(all).endsWith("path=/x"), new TextDecoder().decode(all));
    conn.close();
    await server.shutdown();
  },
});

Deno.test({
  name: "serveH3() answers a malformed request with 400 and keeps the connection",
  ...opts,
  fn: async () => {
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      () => new Response("ok"),
    );
    const client = new H3Client({ caCerts: [certs.caPem] });
    const url = `https://localhost:${server.addr.port}`;
    assertEquals((await client.fetch(url + "/")).status, 200);
    // An uppercase name is malformed (RFC 9114 §4.2); a raw request carries one.
    const conn = await connectRaw(server.addr.port);
    const s = await request(conn, requestHeaders("/", [["X-Upper", "1"]]));
    const r = s.readable.getReader();
    const { value } = await r.read();
    // QPACK: 0000 then indexed static 67 (":status" "400") = 0xc0 | 0x3f, 0x04.
    assertEquals(Array.from(value!.subarray(0, 6)), [0x01, 0x04, 0x00, 0x00, 0xff, 0x04]);
    conn.close();
    assertEquals((await client.fetch(url + "/again")).status, 200);
    await client.close();
    await server.shutdown();
  },
});

/** Runs a raw HTTP/3 "server" that sends `script` bytes, and returns the code our client closes with. */
async function clientCloseCode(
  script: (conn: Deno.QuicConn) => Promise<void>,
  options: H3ClientOptions = {},
): Promise<number> {
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({ cert: certs.certPem, key: certs.keyPem, alpnProtocols: ["h3"] });
  const accepted = listener.accept();
  const client = new H3Client({ caCerts: [certs.caPem], ...options });
  const fetching = client.fetch(`https://localhost:${endpoint.addr.port}/`).catch((e) => e);
  const conn = await accepted;
  await script(conn);
  const info = await Promise.race([
    conn.closed,
    new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error("client did not close the connection")), 5000)
    ),
  ]);
  await fetching;
  await client.close();
  endpoint.close();
  return info.closeCode;
}

/** The client's first request stream, as the raw server accepted it. */
async function firstRequest(c: Deno.QuicConn): Promise<Deno.QuicBidirectionalStream> {
  const reader = c.incomingBidirectionalStreams.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value!;
}

/** A PUSH_PROMISE frame promising GET `path` (static QPACK). */
function promise(pushId: number, path: string): Uint8Array {
  const section = new QpackEncoder({ huffman: "never" }).encodeFieldSection(0, [
    [":method", "GET"],
    [":scheme", "https"],
    [":authority", "localhost"],
    [":path", path],
  ]);
  return encodePushPromiseFrame(pushId, section);
}

const allowPushes: H3ClientOptions = { maxPushes: 2 };

const clientCases: [string, number, (c: Deno.QuicConn) => Promise<void>, H3ClientOptions?][] = [
  ["GOAWAY naming a non-request stream", H3_ERROR.ID_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeVarintFrame(FRAME.GOAWAY, 1)));
  }],
  ["MAX_PUSH_ID from a server", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS, encodeVarintFrame(FRAME.MAX_PUSH_ID, 1)));
  }],
  ["missing SETTINGS", H3_ERROR.MISSING_SETTINGS, async (c) => {
    await send(c, uni(0x00, encodeVarintFrame(FRAME.CANCEL_PUSH, 0)));
  }],
  ["push stream without MAX_PUSH_ID", H3_ERROR.ID_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x01, varintBytes(0)));
  }],
  ["PUSH_PROMISE without MAX_PUSH_ID", H3_ERROR.ID_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    const reader = c.incomingBidirectionalStreams.getReader();
    const { value: s } = await reader.read();
    const w = s!.writable.getWriter();
    await w.write(encodePushPromiseFrame(0, new Uint8Array([0, 0, 0xd1])));
  }],
  ["DATA before HEADERS on a response", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    const reader = c.incomingBidirectionalStreams.getReader();
    const { value: s } = await reader.read();
    await s!.writable.getWriter().write(encodeFrame(FRAME.DATA, new Uint8Array(2)));
  }],
  ["a bidirectional stream opened by the server", H3_ERROR.STREAM_CREATION_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    const s = await c.createBidirectionalStream();
    await s.writable.getWriter().write(requestHeaders());
  }],
  ["a second control stream", H3_ERROR.STREAM_CREATION_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x00, SETTINGS));
  }],
  ["QPACK encoder stream closed", H3_ERROR.CLOSED_CRITICAL_STREAM, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x02), true);
  }],
  ["SETTINGS_ENABLE_CONNECT_PROTOCOL of 2", H3_ERROR.SETTINGS_ERROR, async (c) => {
    await send(c, uni(0x00, encodeSettingsFrame([[0x08, 2]])));
  }],
  ["two push streams for one push ID", H3_ERROR.ID_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    await send(c, uni(0x01, varintBytes(0)));
    await send(c, uni(0x01, varintBytes(0)));
  }, allowPushes],
  ["a push ID promised twice for different requests", H3_ERROR.GENERAL_PROTOCOL_ERROR, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    const s = await firstRequest(c);
    await s.writable.getWriter().write(concat([promise(0, "/a.css"), promise(0, "/b.css")]));
  }, allowPushes],
  ["PUSH_PROMISE on a push stream", H3_ERROR.FRAME_UNEXPECTED, async (c) => {
    await send(c, uni(0x00, SETTINGS));
    const s = await firstRequest(c);
    await s.writable.getWriter().write(promise(0, "/a.css"));
    await send(c, uni(0x01, varintBytes(0), promise(1, "/b.css")));
  }, allowPushes],
];

for (const [name, code, script, options] of clientCases) {
  Deno.test({
    name: `H3Client closes with ${code.toString(16)} on ${name}`,
    ...opts,
    fn: async () => assertEquals((await clientCloseCode(script, options)).toString(16), code.toString(16)),
  });
}

Deno.test({
  name: "serveH3() survives random bytes on control and request streams, closing only with H3 codes",
  ...opts,
  fn: async () => {
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem, gracefulTimeout: 100 },
      () => new Response("ok"),
    );
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const codes = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const conn = await connectRaw(server.addr.port);
      try {
        // Half the cases start the control stream properly, so later frames get parsed too.
        const prefix = i % 2 ? uni(0x00, SETTINGS) : new Uint8Array(0);
        await send(conn, concat([prefix, bytes(1 + Math.floor(rand() * 60))]));
        await request(
          conn,
          concat([i % 3 ? requestHeaders() : new Uint8Array(0), bytes(Math.floor(rand() * 60))]),
        );
        const info = await Promise.race([
          conn.closed,
          new Promise<null>((r) => setTimeout(() => r(null), 300)),
        ]);
        if (info) codes.add(info.closeCode);
      } catch {
        // the server closed first
      } finally {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    }
    for (const c of codes) {
      assert((c >= 0x100 && c <= 0x110) || (c >= 0x200 && c <= 0x202), `code 0x${c.toString(16)}`);
    }
    assert(codes.size > 0);
    // Still serving.
    const client = new H3Client({ caCerts: [certs.caPem] });
    assertEquals(await (await client.fetch(`https://localhost:${server.addr.port}/`)).text(), "ok");
    await client.close();
    await server.shutdown();
  },
});
