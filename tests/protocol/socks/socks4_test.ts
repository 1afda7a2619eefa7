import { assertEquals, assertThrows } from "../../_util/assert.ts";
import fc from "fast-check";
import { ProtocolError } from "../../../src/common/errors.ts";
import * as s4 from "../../../src/protocol/socks/socks4.ts";

Deno.test("decodeSocks4Request() parses a SOCKS4 CONNECT with a user id", () => {
  const req = Uint8Array.of(4, 1, 0, 80, 10, 1, 2, 3, 98, 111, 98, 0);
  assertEquals(s4.decodeSocks4Request(req), {
    value: { command: 1, destination: { host: "10.1.2.3", port: 80 }, userId: "bob" },
    length: 12,
  });
  assertEquals(s4.decodeSocks4Request(req.subarray(0, 11)), null);
});

Deno.test("decodeSocks4Request() parses SOCKS4a (0.0.0.x) with the domain after the user id", () => {
  const req = s4.encodeSocks4Request(1, { host: "example.org", port: 8080 });
  assertEquals(req.subarray(0, 9), Uint8Array.of(4, 1, 0x1f, 0x90, 0, 0, 0, 1, 0));
  assertEquals(s4.decodeSocks4Request(req)?.value.destination, { host: "example.org", port: 8080 });
  assertEquals(s4.decodeSocks4Request(req.subarray(0, req.length - 1)), null);
});

Deno.test("decodeSocks4Request() rejects a wrong version, an empty 4a domain and an endless user id", () => {
  assertThrows(() => s4.decodeSocks4Request(Uint8Array.of(5, 1, 0, 80, 1, 1, 1, 1, 0)), ProtocolError);
  assertThrows(
    () => s4.decodeSocks4Request(Uint8Array.of(4, 1, 0, 80, 0, 0, 0, 1, 0, 0)),
    ProtocolError,
    "empty domain",
  );
  const long = new Uint8Array(8 + 300).fill(65);
  long.set([4, 1, 0, 80, 1, 1, 1, 1]);
  assertThrows(() => s4.decodeSocks4Request(long), ProtocolError, "USERID longer");
});

Deno.test("encodeSocks4Reply() writes VN=0 CD DSTPORT DSTIP; IPv6 requests are refused", () => {
  assertEquals(s4.encodeSocks4Reply(true), Uint8Array.of(0, 90, 0, 0, 0, 0, 0, 0));
  assertEquals(
    s4.encodeSocks4Reply(false, { host: "1.2.3.4", port: 258 }),
    Uint8Array.of(0, 91, 1, 2, 1, 2, 3, 4),
  );
  assertEquals(s4.decodeSocks4Reply(Uint8Array.of(0, 91, 0, 0, 0, 0, 0, 0))?.value, 91);
  assertThrows(() => s4.encodeSocks4Request(1, { host: "::1", port: 1 }), RangeError);
});

Deno.test("SOCKS4 decoder never throws anything but ProtocolError on random bytes (fuzz)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      bytes[0] = 4;
      try {
        s4.decodeSocks4Request(bytes);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
