/** macOS and Windows packet/struct layouts, tested here although they only run there. */
import { assert, assertEquals, assertThrows } from "../traceroute/_assert.ts";
import {
  BIOC,
  bpfWordAlign,
  darwinRawIPv4,
  darwinRawIPv6,
  encodeBpfRecord,
  ifreq,
  parseBpfBuffer,
} from "../../ffi/darwin_bpf.ts";
import {
  DDNPM_SIGNATURE,
  driverFilters,
  encodeFilterDefinition,
  FILTER_DEFINITION_SIZE,
  packetFromDriverRead,
  WIN,
} from "../../ffi/windows_ddnpm.ts";
import { parseFrame } from "../../src/traceroute/packets/frame.ts";
import { parseIP } from "../../src/traceroute/packets/addr.ts";
import { IcmpProbe } from "../../src/traceroute/probe/icmp.ts";
import { UdpProbe } from "../../src/traceroute/probe/udp.ts";

const LO = parseIP("127.0.0.1")!;
const probe = new IcmpProbe(
  { local: "127.0.0.1", localBytes: LO, localPort: 0, target: "127.0.0.1", targetBytes: LO, targetPort: 0 },
  5,
).buildProbe(3);

Deno.test("darwin ioctl numbers match _IOW/_IOR('B', n, size)", () => {
  const io = (dir: number, n: number, size: number) => ((dir << 29) | (size << 16) | (0x42 << 8) | n) >>> 0;
  const IOC_OUT = 2, IOC_IN = 4, IOC_INOUT = 6;
  assertEquals(BIOC.SETIF, io(IOC_IN, 108, 32));
  assertEquals(BIOC.IMMEDIATE, io(IOC_IN, 112, 4));
  assertEquals(BIOC.GBLEN, io(IOC_OUT, 102, 4));
  assertEquals(BIOC.SBLEN, io(IOC_INOUT, 102, 4));
  assertEquals(BIOC.GDLT, io(IOC_OUT, 106, 4));
  assertEquals(ifreq("en0").length, 32);
  assertThrows(() => ifreq("a-very-long-interface-name"), RangeError);
});

Deno.test("parseBpfBuffer() walks 4-byte aligned records; DLT_NULL and Ethernet frames parse", () => {
  const nul = new Uint8Array(4 + probe.length);
  nul.set([2, 0, 0, 0]);
  nul.set(probe, 4);
  const eth = new Uint8Array(14 + probe.length);
  eth[12] = 0x08;
  eth.set(probe, 14);
  const a = encodeBpfRecord(nul, 100, 7), b = encodeBpfRecord(eth, 101, 8);
  assertEquals(a.length % 4, 0);
  assertEquals(bpfWordAlign(18 + nul.length), a.length);
  const buf = new Uint8Array(a.length + b.length);
  buf.set(a);
  buf.set(b, a.length);
  const recs = parseBpfBuffer(buf);
  assertEquals(recs.map((r) => [r.tsSec, r.tsUsec, r.caplen]), [[100, 7, nul.length], [101, 8, eth.length]]);
  assertEquals(parseFrame(recs[0].frame, "null")?.icmp?.echoId, 5);
  assertEquals(parseFrame(recs[1].frame, "ethernet")?.icmp?.echoSeq, 3);
  assertThrows(() => parseBpfBuffer(buf.subarray(0, a.length + 22)), RangeError);
});

Deno.test("darwinRawIPv4() puts ip_len and ip_off in host order; IPv6 sends the payload with a hop limit", () => {
  const udp = new UdpProbe({
    local: "1.2.3.4",
    localBytes: parseIP("1.2.3.4")!,
    localPort: 12345,
    target: "5.6.7.8",
    targetBytes: parseIP("5.6.7.8")!,
    targetPort: 33434,
  }).buildProbe(4);
  const d = darwinRawIPv4(udp);
  assertEquals([d[2], d[3]], [36, 0], "ip_len 36 little-endian");
  assertEquals([d[6], d[7]], [0x00, 0x40], "DF (0x4000) little-endian");
  assertEquals(d.subarray(8), udp.subarray(8));
  assertEquals([udp[2], udp[3]], [0, 36], "input untouched");
  const v6 = new UdpProbe({
    local: "2001:db8::1",
    localBytes: parseIP("2001:db8::1")!,
    localPort: 1,
    target: "2001:db8::2",
    targetBytes: parseIP("2001:db8::2")!,
    targetPort: 2,
  }).buildProbe(9);
  const s = darwinRawIPv6(v6);
  assertEquals([s.nextHeader, s.hopLimit, s.payload.length], [17, 9, 8 + 5 + 9]);
});

Deno.test("ddnpm FilterDefinition is 160 bytes of little-endian u64 in the driver's order", () => {
  const local = parseIP("10.0.0.5")!, remote = parseIP("192.0.2.9")!;
  const [, , capture, discard] = driverFilters({
    type: "tcp",
    local,
    localPort: 50000,
    remote,
    remotePort: 443,
  });
  const b = encodeFilterDefinition(capture);
  assertEquals(b.length, FILTER_DEFINITION_SIZE);
  const v = new DataView(b.buffer);
  const u = (o: number) => v.getBigUint64(o, true);
  assertEquals([u(0), u(8), u(16), u(24)], [DDNPM_SIGNATURE, 160n, 1n, 2n]);
  assertEquals(u(32), 2n, "local af");
  assertEquals([...b.subarray(40, 44)], [10, 0, 0, 5]);
  assertEquals(u(64), 0xffffffffn, "v4 mask");
  assertEquals([...b.subarray(80, 84)], [192, 0, 2, 9]);
  assertEquals([u(112), u(120), u(128), u(136), u(144), u(152)], [50000n, 443n, 6n, 0n, 0n, 0n]);
  assertEquals(new DataView(encodeFilterDefinition(discard).buffer).getBigUint64(152, true), 1n);
  const v6 = encodeFilterDefinition({
    af: WIN.AF_INET6,
    remote: { af: WIN.AF_INET6, addr: parseIP("2001:db8::1")! },
  });
  const w = new DataView(v6.buffer);
  assertEquals(w.getBigUint64(72, true), 23n);
  assertEquals(v6[88], 0x20, "v6 address at +16 of the FilterAddress");
  assertEquals(w.getBigUint64(104, true), 0xffffffffffffffffn);
});

Deno.test("ddnpm filter sets: 2 for ICMP/UDP, 4 for TCP and SYN-ACK, 6 for none", () => {
  const a = parseIP("10.0.0.1")!;
  assertEquals(driverFilters({ type: "icmp" }).length, 2);
  assertEquals(driverFilters({ type: "udp" }).length, 2);
  assertEquals(driverFilters({ type: "tcp", local: a, localPort: 1, remote: a, remotePort: 2 }).length, 4);
  const syn = driverFilters({ type: "synack", remote: a, remotePort: 443 });
  assertEquals(syn.length, 4);
  assertEquals([syn[2].discard, syn[3].discard], [undefined, true]);
  assertEquals(driverFilters({ type: "none" }).length, 6);
  const [icmp4, icmp6] = driverFilters({ type: "icmp" });
  assertEquals([icmp4.af, icmp4.protocol, icmp6.af, icmp6.protocol], [2, 1, 23, 58]);
});

Deno.test("packetFromDriverRead() skips the 72-byte FilterPacketHeader", () => {
  const buf = new Uint8Array(150);
  buf.set(probe, 72);
  const p = packetFromDriverRead(buf, 72 + probe.length)!;
  assertEquals(p, probe);
  assert(packetFromDriverRead(buf, 72) === null);
});
