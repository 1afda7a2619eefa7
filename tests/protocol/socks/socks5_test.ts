import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import fc from "fast-check";
import { ProtocolError } from "../../../src/common/errors.ts";
import { decodeSocksAddr, encodeSocksAddr } from "../../../src/common/socks_addr.ts";
import * as s5 from "../../../src/protocol/socks/socks5.ts";

Deno.test("decodeGreeting() reads the offered methods and waits for more bytes", () => {
  assertEquals(s5.decodeGreeting(Uint8Array.of(5)), null);
  assertEquals(s5.decodeGreeting(Uint8Array.of(5, 2, 0)), null);
  assertEquals(s5.decodeGreeting(Uint8Array.of(5, 2, 0, 2, 99)), { value: { methods: [0, 2] }, length: 4 });
});

Deno.test("decodeGreeting() rejects a wrong version or an empty method list with the offset", () => {
  const e = assertThrows(() => s5.decodeGreeting(Uint8Array.of(4, 1, 0)), ProtocolError);
  assertEquals(e.offset, 0);
  assertEquals(assertThrows(() => s5.decodeGreeting(Uint8Array.of(5, 0)), ProtocolError).offset, 1);
});

Deno.test("decodeRequest() parses CONNECT to IPv4, IPv6 and domain (RFC 1928 §4 bytes)", () => {
  assertEquals(
    s5.decodeRequest(Uint8Array.of(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90)),
    { value: { code: 1, address: { host: "127.0.0.1", port: 8080 } }, length: 10 },
  );
  const v6 = Uint8Array.of(5, 1, 0, 4, ...new Array(15).fill(0), 1, 0, 80);
  assertEquals(s5.decodeRequest(v6)?.value.address, { host: "::1", port: 80 });
  const dom = Uint8Array.of(5, 3, 0, 3, 11, ...new TextEncoder().encode("example.com"), 1, 187);
  assertEquals(s5.decodeRequest(dom), {
    value: { code: 3, address: { host: "example.com", port: 443 } },
    length: 18,
  });
  assertEquals(s5.decodeRequest(dom.subarray(0, 17)), null);
});

Deno.test("decodeRequest() rejects an unknown address type, a non-zero RSV and an empty domain", () => {
  assertEquals(
    assertThrows(() => s5.decodeRequest(Uint8Array.of(5, 1, 0, 9, 0, 0)), ProtocolError).offset,
    3,
  );
  assertEquals(
    assertThrows(() => s5.decodeRequest(Uint8Array.of(5, 1, 1, 1, 0, 0, 0, 0, 0, 0)), ProtocolError).offset,
    2,
  );
  assertEquals(
    assertThrows(() => s5.decodeRequest(Uint8Array.of(5, 1, 0, 3, 0, 0, 80)), ProtocolError).offset,
    4,
  );
});

Deno.test("encodeReply() writes VER REP RSV ATYP BND.ADDR BND.PORT", () => {
  assertEquals(
    s5.encodeReply(0, { host: "10.0.0.1", port: 1080 }),
    Uint8Array.of(5, 0, 0, 1, 10, 0, 0, 1, 4, 56),
  );
  assertEquals(s5.encodeReply(5), Uint8Array.of(5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
});

Deno.test("RFC 1929 user/pass request and reply round-trip", () => {
  const req = s5.encodeUserPassRequest("user", "päss");
  assertEquals(req.subarray(0, 6), Uint8Array.of(1, 4, 117, 115, 101, 114));
  assertEquals(s5.decodeUserPassRequest(req)?.value, { username: "user", password: "päss" });
  assertEquals(s5.decodeUserPassRequest(req.subarray(0, req.length - 1)), null);
  assertEquals(s5.decodeUserPassReply(s5.encodeUserPassReply(false))?.value, false);
  assertThrows(() => s5.decodeUserPassRequest(Uint8Array.of(2, 0, 0)), ProtocolError);
});

Deno.test("UDP datagram header (RFC 1928 §7) round-trips and rejects truncation", () => {
  const data = new TextEncoder().encode("ping");
  const dg = s5.encodeUdpDatagram({ host: "8.8.8.8", port: 53 }, data);
  assertEquals(dg.subarray(0, 10), Uint8Array.of(0, 0, 0, 1, 8, 8, 8, 8, 0, 53));
  const d = s5.decodeUdpDatagram(dg);
  assertEquals([d.frag, d.address, new TextDecoder().decode(d.data)], [
    0,
    { host: "8.8.8.8", port: 53 },
    "ping",
  ]);
  assertThrows(() => s5.decodeUdpDatagram(dg.subarray(0, 6)), ProtocolError);
  assertThrows(() => s5.decodeUdpDatagram(Uint8Array.of(1, 0, 0, 1, 0, 0, 0, 0, 0, 0)), ProtocolError);
});

Deno.test("replyCodeFor() maps dial errors to RFC 1928 reply codes", () => {
  const named = (name: string, message = "x") => Object.assign(new Error(message), { name });
  assertEquals(s5.replyCodeFor(named("RejectedError")), s5.REP_NOT_ALLOWED);
  assertEquals(s5.replyCodeFor(named("ConnectionRefused")), s5.REP_CONNECTION_REFUSED);
  assertEquals(
    s5.replyCodeFor(new Error("Network is unreachable (os error 101)")),
    s5.REP_NETWORK_UNREACHABLE,
  );
  assertEquals(s5.replyCodeFor(named("TimeoutError")), s5.REP_TTL_EXPIRED);
  assertEquals(s5.replyCodeFor(new Error("something else")), s5.REP_GENERAL_FAILURE);
});

const addrArb = fc.oneof(
  fc.ipV4().map((host) => ({ host, port: 0 })),
  fc.domain().filter((d) => d.length <= 255).map((host) => ({ host, port: 0 })),
).chain((a) => fc.integer({ min: 0, max: 65535 }).map((port) => ({ ...a, port })));

Deno.test("SOCKS address codec round-trips any IPv4 address or domain (property)", () => {
  fc.assert(fc.property(addrArb, (a) => {
    const enc = encodeSocksAddr(a);
    assertEquals(decodeSocksAddr(enc, 0), { value: a, length: enc.length });
  }));
});

Deno.test("SOCKS5 decoders never throw anything but ProtocolError on random bytes (fuzz)", () => {
  const decoders = [s5.decodeGreeting, s5.decodeRequest, s5.decodeUserPassRequest, s5.decodeMethodSelection];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const d of decoders) {
        try {
          const r = d(bytes);
          if (r) assert(r.length <= bytes.length, "decoder consumed more than it was given");
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
      try {
        s5.decodeUdpDatagram(bytes);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
