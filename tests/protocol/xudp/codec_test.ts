/**
 * Mux.Cool / XUDP frames: known answers built from the frame layout in the Mux.Cool spec
 * (xtls.github.io "Mux.Cool") and the XUDP rules in sing-vmess `xudp.go`, the client framing,
 * and a fuzz run of the decoder.
 */
import fc from "fast-check";
import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import {
  decodeMuxCoolFrame,
  encodeMuxCoolFrame,
  NETWORK_TCP,
  NETWORK_UDP,
  OPTION_DATA,
  OPTION_ERROR,
  STATUS_END,
  STATUS_KEEP,
  STATUS_KEEP_ALIVE,
  STATUS_NEW,
} from "../../../src/protocol/xudp/frame.ts";
import { xudpClientFraming } from "../../../src/protocol/xudp/client.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.replace(/ /g, "").match(/../g)!.map((x) => parseInt(x, 16)));
const ab = new TextEncoder().encode("ab");

// New, UDP to 8.8.8.8:53, data "ab". Metadata: session 0000, status 01, option 01, network 02,
// port 0035, atyp 01, 08080808 = 12 bytes.
const NEW_UDP = "000c 0000 01 01 02 0035 01 08080808 0002 6162";
// Keep, session 0005, UDP from example.com:443: network 02, port 01bb, atyp 02, len 0b, name.
const KEEP_DOMAIN = "0014 0005 02 01 02 01bb 02 0b 6578616d706c652e636f6d 0002 6162";

Deno.test("encodeMuxCoolFrame() matches the Mux.Cool layout for New and XUDP Keep frames", () => {
  assertEquals(
    hex(encodeMuxCoolFrame({
      sessionId: 0,
      status: STATUS_NEW,
      option: OPTION_DATA,
      target: { network: NETWORK_UDP, address: { host: "8.8.8.8", port: 53 } },
      data: ab,
    })),
    NEW_UDP.replace(/ /g, ""),
  );
  assertEquals(
    hex(encodeMuxCoolFrame({
      sessionId: 5,
      status: STATUS_KEEP,
      option: 0,
      target: { network: NETWORK_UDP, address: { host: "example.com", port: 443 } },
      data: ab,
    })),
    KEEP_DOMAIN.replace(/ /g, ""),
  );
  // IPv6 target, TCP, no data: metadata 4 + 1 + 2 + 1 + 16 = 24.
  assertEquals(
    hex(encodeMuxCoolFrame({
      sessionId: 0x0102,
      status: STATUS_NEW,
      option: 0,
      target: { network: NETWORK_TCP, address: { host: "::1", port: 80 } },
    })),
    "0018" + "0102" + "01" + "00" + "01" + "0050" + "03" + "0".repeat(31) + "1",
  );
  // End with the error option, no metadata beyond the 4 fixed bytes.
  assertEquals(
    hex(encodeMuxCoolFrame({ sessionId: 7, status: STATUS_END, option: OPTION_ERROR })),
    "0004000703" + "02",
  );
  assertThrows(
    () => encodeMuxCoolFrame({ sessionId: 0, status: 2, option: 1, data: new Uint8Array(65536) }),
    RangeError,
  );
});

Deno.test("decodeMuxCoolFrame() reads targets, a trailing XUDP global ID and data; incomplete input is null", () => {
  const newUdp = unhex(NEW_UDP);
  const d = decodeMuxCoolFrame(newUdp)!;
  assertEquals(d.length, newUdp.length);
  assertEquals(d.value.sessionId, 0);
  assertEquals(d.value.status, STATUS_NEW);
  assertEquals(d.value.target, { network: NETWORK_UDP, address: { host: "8.8.8.8", port: 53 } });
  assertEquals(hex(d.value.data!), "6162");
  for (let i = 0; i < newUdp.length; i++) assertEquals(decodeMuxCoolFrame(newUdp.subarray(0, i)), null);

  const keep = decodeMuxCoolFrame(unhex(KEEP_DOMAIN))!.value;
  assertEquals([keep.sessionId, keep.status, keep.target?.address.host], [5, STATUS_KEEP, "example.com"]);

  // Xray appends an 8-byte global ID to the metadata of an XUDP New frame.
  const withGid = unhex("0014 0000 01 01 02 0035 01 7f000001 1122334455667788 0001 ff");
  const g = decodeMuxCoolFrame(withGid)!;
  assertEquals(hex(g.value.globalId!), "1122334455667788");
  assertEquals(hex(g.value.data!), "ff");
  assertEquals(g.length, withGid.length);
  assertEquals(hex(encodeMuxCoolFrame(g.value)), hex(withGid));

  // Keep without a target (plain Mux.Cool data), KeepAlive, End.
  assertEquals(decodeMuxCoolFrame(unhex("0004 0003 02 01 0001 61"))!.value.target, undefined);
  assertEquals(decodeMuxCoolFrame(unhex("0004 0000 04 00"))!.value.status, STATUS_KEEP_ALIVE);
  assertEquals(decodeMuxCoolFrame(unhex("0004 0003 03 02"))!.value.option, OPTION_ERROR);
});

Deno.test("decodeMuxCoolFrame() rejects bad metadata lengths, statuses, networks and overrunning addresses", () => {
  for (
    const bad of [
      "0003 000001",
      "0201" + "00".repeat(513),
      "0004 0000 05 00",
      "0005 0000 01 00 03",
      "0008 0000 01 00 02 0035 01 08", // IPv4 address cut by the metadata end
      "0006 0000 01 00 02 00", // port cut
      "000a 0000 01 00 02 0035 02 00 0000", // empty domain
      "0007 0000 01 00 02 0035 09",
    ]
  ) {
    assertThrows(() => decodeMuxCoolFrame(unhex(bad)), ProtocolError);
  }
});

Deno.test("xudpClientFraming() opens with New, continues with Keep, and reads addressed replies", () => {
  const f = xudpClientFraming({ host: "10.0.0.1", port: 53 });
  const first = decodeMuxCoolFrame(f.encode(ab, { host: "10.0.0.1", port: 53 }))!.value;
  const second = decodeMuxCoolFrame(f.encode(ab, { host: "example.com", port: 7 }))!.value;
  assertEquals([first.status, first.sessionId, first.option], [STATUS_NEW, 0, OPTION_DATA]);
  assertEquals([second.status, second.target?.address.host], [STATUS_KEEP, "example.com"]);
  const q = new ByteQueue();
  // KeepAlive is skipped, a Keep with an address names it, one without names the first peer.
  q.push(unhex("0004 0000 04 00"));
  q.push(unhex(KEEP_DOMAIN));
  q.push(unhex("0004 0000 02 01 0001 7a"));
  q.push(unhex("0004 0000 03 00"));
  assertEquals(f.decode(q), { data: ab, addr: { host: "example.com", port: 443 } });
  assertEquals(f.decode(q), { data: new Uint8Array([0x7a]), addr: { host: "10.0.0.1", port: 53 } });
  assertEquals(f.decode(q), "eof");
  const q2 = new ByteQueue();
  q2.push(unhex(NEW_UDP));
  assertThrows(() => f.decode(q2), ProtocolError);
  const q3 = new ByteQueue();
  q3.push(unhex("0004 0000 03 02"));
  assertThrows(() => f.decode(q3), ProtocolError);
});

Deno.test("fuzz: decodeMuxCoolFrame() only ever throws ProtocolError, and round-trips what it decodes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      try {
        const d = decodeMuxCoolFrame(b);
        if (d && !d.value.target && d.value.status !== STATUS_KEEP_ALIVE) {
          assertEquals(hex(encodeMuxCoolFrame(d.value)), hex(b.subarray(0, d.length)));
        }
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});
