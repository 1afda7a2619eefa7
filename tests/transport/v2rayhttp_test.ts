import fc from "fast-check";
import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ProtocolError } from "../../src/common/errors.ts";
import { HandshakeReader } from "../../src/common/handshake_reader.ts";
import type { Stream } from "../../src/adapter/types.ts";
import {
  checkHttpRequest,
  encodeHttp1Request,
  http1Accept,
  Http1ResponseDecoder,
  normalPath,
} from "../../src/transport/v2rayhttp/http1.ts";
import { isH2Preface, serverAlpn } from "../../src/transport/v2ray.ts";

const te = new TextEncoder(), td = new TextDecoder();

/** An in-memory stream: reads from `input`, records writes. */
function memStream(input: Uint8Array): Stream & { written: () => string } {
  let off = 0;
  const out: number[] = [];
  return {
    read(p) {
      if (off >= input.length) return Promise.resolve(null);
      const n = Math.min(p.length, input.length - off);
      p.set(input.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
    write(p) {
      out.push(...p);
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(),
    close() {},
    written: () => td.decode(new Uint8Array(out)),
  };
}

Deno.test("HTTP/1.1 tunnel request: PUT by default, Host from the list, configured headers, no body length", () => {
  const req = td.decode(encodeHttp1Request({ path: "p", headers: { "X-A": ["1", "2"] } }, "10.0.0.1"));
  assertEquals(req, "PUT /p HTTP/1.1\r\nHost: 10.0.0.1\r\nX-A: 1\r\nX-A: 2\r\n\r\n");
  const req2 = td.decode(encodeHttp1Request({ method: "GET", host: ["only.example"] }, "x"));
  assertEquals(req2.split("\r\n")[0], "GET / HTTP/1.1");
  assertEquals(normalPath(undefined), "/");
});

Deno.test("HTTP/1.1 response decoder skips a 200 head and passes the tunnel bytes; rejects other statuses", () => {
  const q = new ByteQueue();
  const d = new Http1ResponseDecoder();
  q.push(te.encode("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n"));
  assertEquals(d.decode(q), null);
  q.push(te.encode("\r\nabc"));
  assertEquals(td.decode(d.decode(q)!), "abc");
  q.push(te.encode("def"));
  assertEquals(td.decode(d.decode(q)!), "def");
  const q2 = new ByteQueue();
  q2.push(te.encode("HTTP/1.1 404 Not Found\r\n\r\n"));
  assertThrows(() => new Http1ResponseDecoder().decode(q2), ProtocolError);
});

Deno.test("server checks host, path prefix and method like sing-box", () => {
  const o = { host: ["a.example"], path: "/x", method: "PUT" };
  assertEquals(checkHttpRequest(o, "PUT", "/x/y", "a.example"), null);
  assertEquals(checkHttpRequest(o, "PUT", "/x", "b.example")?.status, 400);
  assertEquals(checkHttpRequest(o, "PUT", "/y", "a.example")?.status, 404);
  assertEquals(checkHttpRequest(o, "GET", "/x", "a.example")?.status, 404);
  assertEquals(checkHttpRequest({}, "POST", "/anything", undefined), null);
});

Deno.test("http1Accept answers 200 and keeps early tunnel bytes; a bad path gets 404", async () => {
  const s = memStream(te.encode("PUT /x HTTP/1.1\r\nHost: h\r\n\r\nEARLY"));
  const t = await http1Accept(s, new HandshakeReader(s), { path: "/x" });
  assert(s.written().startsWith("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\n"), s.written());
  const b = new Uint8Array(10);
  assertEquals(td.decode(b.subarray(0, (await t.read(b))!)), "EARLY");
  const bad = memStream(te.encode("PUT /nope HTTP/1.1\r\nHost: h\r\n\r\n"));
  await assertRejects(() => http1Accept(bad, new HandshakeReader(bad), { path: "/x" }), ProtocolError);
  assert(bad.written().startsWith("HTTP/1.1 404 "));
});

Deno.test("HTTP/2 preface sniffing and server ALPN defaults", () => {
  const pre = te.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  assertEquals(isH2Preface(pre), true);
  assertEquals(isH2Preface(pre.subarray(0, 5)), null);
  assertEquals(isH2Preface(new Uint8Array(0)), null);
  assertEquals(isH2Preface(te.encode("PUT / HTTP/1.1")), false);
  assertEquals(serverAlpn({ type: "http" }, undefined), ["h2", "http/1.1"]);
  assertEquals(serverAlpn({ type: "grpc" }, ["http/1.1"]), ["h2", "http/1.1"]);
  assertEquals(serverAlpn({ type: "ws" }, undefined), undefined);
});

Deno.test("fuzz: the response decoder never crashes on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      const q = new ByteQueue();
      q.push(te.encode("HTTP/1.1 200 OK\r\n"));
      q.push(junk);
      try {
        new Http1ResponseDecoder().decode(q);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});
