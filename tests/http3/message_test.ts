// Request/response validation (RFC 9114 §4.1.2, §4.2, §4.3, RFC 9220) and field conversion.
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { H3_ERROR, H3Error } from "../../src/http3/errors.ts";
import {
  parseRequestFields,
  parseResponseFields,
  parseTrailerFields,
  requestFields,
  responseFields,
} from "../../src/http3/message.ts";
import type { Field } from "../../src/http3/qpack/static_table.ts";

const GET: Field[] = [[":method", "GET"], [":scheme", "https"], [":authority", "a.example"], [
  ":path",
  "/x?y",
]];

function messageError(fn: () => unknown): void {
  const e = assertThrows(fn, H3Error);
  assertEquals([e.code, e.scope], [H3_ERROR.MESSAGE_ERROR, "stream"]);
}

Deno.test("parseRequestFields() accepts a plain GET and joins cookie crumbs", () => {
  const head = parseRequestFields([...GET, ["cookie", "a=1"], ["accept", "*/*"], ["cookie", "b=2"]]);
  assertEquals([head.method, head.scheme, head.authority, head.path], ["GET", "https", "a.example", "/x?y"]);
  assertEquals(head.headers.get("cookie"), "a=1; b=2");
  assertEquals(head.headers.get("accept"), "*/*");
});

Deno.test("parseRequestFields() rejects malformed requests with H3_MESSAGE_ERROR", () => {
  messageError(() => parseRequestFields(GET.slice(1))); // no :method
  messageError(() => parseRequestFields(GET.filter(([n]) => n !== ":path")));
  messageError(() => parseRequestFields(GET.filter(([n]) => n !== ":scheme")));
  messageError(() => parseRequestFields(GET.filter(([n]) => n !== ":authority"))); // https needs authority or host
  messageError(() => parseRequestFields([...GET, [":method", "GET"]]));
  messageError(() => parseRequestFields([...GET, ["x", "1"], [":status", "200"]]));
  messageError(() => parseRequestFields([[":status", "200"], ...GET]));
  messageError(() => parseRequestFields([...GET, ["X-Upper", "1"]]));
  messageError(() => parseRequestFields([...GET, ["connection", "close"]]));
  messageError(() => parseRequestFields([...GET, ["transfer-encoding", "chunked"]]));
  messageError(() => parseRequestFields([...GET, ["te", "gzip"]]));
  messageError(() => parseRequestFields([...GET, ["x", "a\r\nb"]]));
  messageError(() => parseRequestFields([...GET, ["host", "other.example"]]));
  messageError(() => parseRequestFields([...GET, ["content-length", "5"], ["content-length", "6"]]));
  messageError(() => parseRequestFields([...GET, ["content-length", "-1"]]));
  // te: trailers is the one allowed TE value.
  assertEquals(parseRequestFields([...GET, ["te", "trailers"]]).headers.get("te"), "trailers");
});

Deno.test("parseRequestFields() handles CONNECT and extended CONNECT (RFC 9220)", () => {
  const connect = parseRequestFields([[":method", "CONNECT"], [":authority", "proxy:443"]]);
  assertEquals([connect.method, connect.scheme, connect.path], ["CONNECT", undefined, undefined]);
  messageError(() => parseRequestFields([[":method", "CONNECT"], [":authority", "p:1"], [":path", "/"]]));
  messageError(() => parseRequestFields([[":method", "CONNECT"]]));
  const ext: Field[] = [[":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "https"], [
    ":authority",
    "a",
  ], [
    ":path",
    "/chat",
  ]];
  messageError(() => parseRequestFields(ext)); // SETTINGS_ENABLE_CONNECT_PROTOCOL not sent
  assertEquals(parseRequestFields(ext, true).protocol, "websocket");
  messageError(() => parseRequestFields([[":method", "GET"], ...ext.slice(1)], true));
  messageError(() => parseRequestFields(ext.filter(([n]) => n !== ":path"), true));
});

Deno.test("parseResponseFields() validates :status", () => {
  assertEquals(parseResponseFields([[":status", "204"], ["server", "x"]]).status, 204);
  assertEquals(parseResponseFields([[":status", "200"], ["content-length", "12"]]).contentLength, 12);
  messageError(() => parseResponseFields([["server", "x"]]));
  messageError(() => parseResponseFields([[":status", "2000"]]));
  messageError(() => parseResponseFields([[":status", "101"]]));
  messageError(() => parseResponseFields([[":status", "200"], [":status", "200"]]));
  messageError(() => parseResponseFields([[":status", "200"], [":path", "/"]]));
});

Deno.test("parseTrailerFields() rejects pseudo-headers", () => {
  assertEquals(parseTrailerFields([["grpc-status", "0"]]).get("grpc-status"), "0");
  messageError(() => parseTrailerFields([[":status", "200"]]));
});

Deno.test("requestFields() and responseFields() drop connection-specific fields", () => {
  const h = new Headers({ "connection": "keep-alive", "x-a": "1", "host": "h", "te": "gzip" });
  assertEquals(requestFields("GET", "https", "a:1", "/p", h), [
    [":method", "GET"],
    [":scheme", "https"],
    [":authority", "a:1"],
    [":path", "/p"],
    ["x-a", "1"],
  ]);
  const rh = new Headers();
  rh.append("set-cookie", "a=1");
  rh.append("set-cookie", "b=2");
  assertEquals(responseFields(200, rh), [[":status", "200"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
  assertEquals(requestFields("CONNECT", "https", "p:443", "/", new Headers()), [[":method", "CONNECT"], [
    ":authority",
    "p:443",
  ]]);
});
