/**
 * SagerNet UDP-over-TCP: known answers built from the layout in sing `common/uot` (request
 * `isConnect ‖ SOCKS5 address`; datagram address types 0 IPv4, 1 IPv6, 2 domain; u16 lengths),
 * the option parser, and a fuzz run of the decoders.
 */
import fc from "fast-check";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import { udpOverTcpSchema, uotVersion } from "../../../src/protocol/uot/client.ts";
import {
  decodeUotAddr,
  decodeUotRequest,
  encodeUotAddr,
  encodeUotRequest,
  uotDestination,
  uotFraming,
} from "../../../src/protocol/uot/protocol.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.replace(/ /g, "").match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("UoT request: isConnect byte then a SOCKS5 address (ATYP 1/3/4, port last)", () => {
  const r = encodeUotRequest({ isConnect: false, destination: { host: "127.0.0.1", port: 53 } });
  assertEquals(hex(r), "00" + "01" + "7f000001" + "0035");
  const c = encodeUotRequest({ isConnect: true, destination: { host: "a.io", port: 443 } });
  assertEquals(hex(c), "01" + "03" + "04" + "612e696f" + "01bb");
  assertEquals(decodeUotRequest(c), {
    value: { isConnect: true, destination: { host: "a.io", port: 443 } },
    length: 9,
  });
  assertEquals(decodeUotRequest(c.subarray(0, 8)), null);
  assertThrows(() => decodeUotRequest(unhex("02 01 7f000001 0035")), ProtocolError);
  assertEquals(uotDestination(2).host, "sp.v2.udp-over-tcp.arpa");
  assertEquals(uotDestination(1).host, "sp.udp-over-tcp.arpa");
});

Deno.test("UoT datagram addresses use their own type bytes: 0 IPv4, 1 IPv6, 2 domain", () => {
  assertEquals(hex(encodeUotAddr({ host: "10.0.0.1", port: 80 })), "00" + "0a000001" + "0050");
  assertEquals(hex(encodeUotAddr({ host: "::1", port: 80 })), "01" + "0".repeat(31) + "1" + "0050");
  assertEquals(hex(encodeUotAddr({ host: "a.io", port: 80 })), "02" + "04" + "612e696f" + "0050");
  for (const host of ["10.0.0.1", "2001:db8::1", "a.io"]) {
    const b = encodeUotAddr({ host, port: 9 });
    assertEquals(decodeUotAddr(b), { value: { host, port: 9 }, length: b.length });
    assertEquals(decodeUotAddr(b.subarray(0, b.length - 1)), null);
  }
  assertThrows(() => decodeUotAddr(unhex("03 00")), ProtocolError);
  assertThrows(() => decodeUotAddr(unhex("02 00 0050")), ProtocolError);
  assertThrows(() => encodeUotAddr({ host: "x".repeat(256), port: 1 }), RangeError);
});

Deno.test("uotFraming() frames address ‖ length ‖ data, or length ‖ data when connected", () => {
  const d = new Uint8Array([0x61, 0x62]);
  const f = uotFraming(false, { host: "0.0.0.0", port: 0 });
  assertEquals(
    hex(f.encode(d, { host: "1.2.3.4", port: 53 })),
    "00 01020304 0035 0002 6162".replace(/ /g, ""),
  );
  const c = uotFraming(true, { host: "1.2.3.4", port: 53 });
  assertEquals(hex(c.encode(d, { host: "9.9.9.9", port: 1 })), "00026162");
  const q = new ByteQueue();
  q.push(unhex("02 04 612e696f 0050 0001 78   00 01020304 0035 0000"));
  assertEquals(f.decode(q), { data: new Uint8Array([0x78]), addr: { host: "a.io", port: 80 } });
  assertEquals(f.decode(q), { data: new Uint8Array(0), addr: { host: "1.2.3.4", port: 53 } });
  assertEquals(f.decode(q), null);
  q.push(unhex("0002 6162 0001"));
  assertEquals(c.decode(q), { data: d, addr: { host: "1.2.3.4", port: 53 } });
  assertEquals(c.decode(q), null);
  assertThrows(() => f.encode(new Uint8Array(65536), { host: "1.2.3.4", port: 1 }), RangeError);
});

Deno.test("udp_over_tcp option: boolean or {enabled, version}; versions 0/2 current, 1 legacy", () => {
  const v = (x: unknown) => uotVersion(udpOverTcpSchema.parse(x));
  assertEquals([v(true), v(false), v({ enabled: true }), v({ enabled: true, version: 1 })], [2, null, 2, 1]);
  assertEquals([v({ enabled: false, version: 2 }), v({ enabled: true, version: 0 })], [null, 2]);
  assertEquals(udpOverTcpSchema.safeParse({ enabled: true, version: 3 }).success, false);
  assertEquals(udpOverTcpSchema.safeParse({ enabled: true, extra: 1 }).success, false);
});

Deno.test("fuzz: UoT decoders throw only ProtocolError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, connect) => {
      for (const f of [() => decodeUotRequest(b), () => decodeUotAddr(b)]) {
        try {
          f();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
      const q = new ByteQueue();
      q.push(b);
      try {
        uotFraming(connect, { host: "1.1.1.1", port: 1 }).decode(q);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
