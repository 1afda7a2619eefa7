import { assertEquals } from "./_assert.ts";
import {
  classifyError,
  DNSError,
  httpStatus,
  InvalidTargetError,
  JoinedError,
  OSError,
  SackNotSupportedError,
  TimeoutError,
  wrap,
} from "../../src/traceroute/errors.ts";

Deno.test("classifyError(): DNS, then invalid target, then timeouts, then the first errno", () => {
  assertEquals(classifyError(new DNSError("h", "x")), "DNS");
  assertEquals(classifyError(new DNSError("h", "x", { timeout: true })), "TIMEOUT");
  assertEquals(classifyError(wrap("a", new InvalidTargetError("bad"))), "INVALID_REQUEST");
  assertEquals(classifyError(new TimeoutError("context deadline exceeded")), "TIMEOUT");
  assertEquals(
    classifyError(wrap("x", new SackNotSupportedError("y", { cause: new OSError("connect", 111) }))),
    "CONNREFUSED",
  );
  assertEquals(classifyError(new OSError("socket", 1)), "DENIED");
  assertEquals(classifyError(new OSError("socket", 13)), "DENIED");
  assertEquals(classifyError(new OSError("sendto", 113)), "HOSTUNREACH");
  assertEquals(classifyError(new OSError("sendto", 101)), "NETUNREACH");
  assertEquals(classifyError(new Deno.errors.ConnectionRefused("x")), "CONNREFUSED");
  assertEquals(classifyError(new Error("unexpected TCPMethod: x")), "UNKNOWN");
  assertEquals(classifyError(new JoinedError([new Error("a"), new OSError("socket", 1)])), "DENIED");
  assertEquals(httpStatus("INVALID_REQUEST"), 400);
  assertEquals(httpStatus("DNS"), 500);
});

Deno.test("JoinedError de-duplicates identical messages and joins with newlines", () => {
  const e = new JoinedError([new Error("same"), new Error("same"), new Error("other")]);
  assertEquals(e.message, "same\nother");
});

Deno.test("OSError messages use Go's errno text", () => {
  assertEquals(new OSError("connect", 111).message, "connect: connection refused");
  assertEquals(new OSError("socket", 1).message, "socket: operation not permitted");
});
