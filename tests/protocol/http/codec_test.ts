import { assertEquals, assertThrows } from "../../_util/assert.ts";
import fc from "fast-check";
import { ProtocolError } from "../../../src/common/errors.ts";
import * as h from "../../../src/protocol/http/codec.ts";

const te = new TextEncoder();

Deno.test("decodeRequestHead() parses CONNECT with headers and returns the head length", () => {
  const text =
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic dTpw\r\n\r\nDATA";
  const r = h.decodeRequestHead(te.encode(text))!;
  assertEquals(r.value.method, "CONNECT");
  assertEquals(r.value.target, "example.com:443");
  assertEquals(h.getHeader(r.value.headers, "proxy-authorization"), "Basic dTpw");
  assertEquals(r.length, text.length - 4);
  assertEquals(h.decodeRequestHead(te.encode(text.slice(0, 40))), null);
});

Deno.test("decodeRequestHead() rejects a malformed request line, a bad header and an oversized head", () => {
  assertThrows(
    () => h.decodeRequestHead(te.encode("GARBAGE\r\n\r\n")),
    ProtocolError,
    "malformed request line",
  );
  assertThrows(() => h.decodeRequestHead(te.encode("GET / HTTP/2\r\n\r\n")), ProtocolError);
  const bad = assertThrows(
    () => h.decodeRequestHead(te.encode("GET / HTTP/1.1\r\nNo-Colon\r\n\r\n")),
    ProtocolError,
  );
  assertEquals(bad.offset, 16);
  assertThrows(() => h.decodeRequestHead(new Uint8Array(h.MAX_HEAD + 1).fill(65)), ProtocolError, "exceeds");
});

Deno.test("parseAbsoluteTarget() splits host, port and origin-form path", () => {
  assertEquals(h.parseAbsoluteTarget("http://example.com/a?b=1"), {
    destination: { host: "example.com", port: 80 },
    path: "/a?b=1",
    host: "example.com",
  });
  assertEquals(h.parseAbsoluteTarget("http://[::1]:8080").destination, { host: "::1", port: 8080 });
  assertThrows(() => h.parseAbsoluteTarget("/relative"), ProtocolError);
  assertThrows(() => h.parseAbsoluteTarget("ftp://x/"), ProtocolError, "unsupported scheme");
});

Deno.test("parseAuthority() accepts host:port and [v6]:port only", () => {
  assertEquals(h.parseAuthority("[2001:db8::1]:443"), { host: "2001:db8::1", port: 443 });
  assertThrows(() => h.parseAuthority("example.com"), ProtocolError);
  assertThrows(() => h.parseAuthority("example.com:99999"), ProtocolError);
});

Deno.test("Basic auth encodes and decodes (RFC 7617), bad values give null", () => {
  assertEquals(h.encodeBasicAuth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  assertEquals(h.decodeBasicAuth("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), {
    username: "Aladdin",
    password: "open sesame",
  });
  assertEquals(h.decodeBasicAuth("Bearer xyz"), null);
  assertEquals(h.decodeBasicAuth("Basic bm9jb2xvbg=="), null);
  assertEquals(h.decodeBasicAuth(undefined), null);
});

Deno.test("decodeResponseHead() parses a status line", () => {
  const r = h.decodeResponseHead(te.encode("HTTP/1.1 407 Proxy Authentication Required\r\nA: b\r\n\r\n"))!;
  assertEquals([r.value.status, r.value.reason, r.value.headers], [407, "Proxy Authentication Required", [[
    "A",
    "b",
  ]]]);
  assertThrows(() => h.decodeResponseHead(te.encode("HTTP/1.1 2000 X\r\n\r\n")), ProtocolError);
});

Deno.test("HTTP head decoders never throw anything but ProtocolError on random input (fuzz)", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.boolean(), (s, terminate) => {
      const bytes = te.encode(terminate ? s + "\r\n\r\n" : s);
      for (const d of [h.decodeRequestHead, h.decodeResponseHead]) {
        try {
          d(bytes);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
    }),
    { numRuns: 3000 },
  );
});
