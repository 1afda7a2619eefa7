import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { checksum, pseudoChecksum } from "../../src/traceroute/packets/checksum.ts";
import { formatIP, isPrivateIP, parseIP } from "../../src/traceroute/packets/addr.ts";
import { emitIPv4, parseIP as parseIPHeader } from "../../src/traceroute/packets/ip.ts";
import { parseFrame, parsePacket, stripLinkHeader } from "../../src/traceroute/packets/frame.ts";
import { emitTCP, parseTCP, TCP_FLAG, timestampsOption } from "../../src/traceroute/packets/transport.ts";
import { UdpProbe } from "../../src/traceroute/probe/udp.ts";
import { TcpSynProbe } from "../../src/traceroute/probe/tcp_syn.ts";
import { IcmpProbe } from "../../src/traceroute/probe/icmp.ts";
import type { ProbeEndpoints } from "../../src/traceroute/probe/types.ts";

function ep(local: string, lport: number, target: string, tport: number): ProbeEndpoints {
  return {
    local,
    localBytes: parseIP(local)!,
    localPort: lport,
    target,
    targetBytes: parseIP(target)!,
    targetPort: tport,
  };
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function u16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

Deno.test("checksum() matches the RFC 1071 example", () => {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d
  assertEquals(checksum(new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
  // odd length pads with a zero byte
  assertEquals(checksum(new Uint8Array([0xff])), 0x00ff);
});

Deno.test("addr: parse/format IPv4, IPv6 (RFC 5952) and private ranges", () => {
  assertEquals(formatIP(parseIP("10.99.1.2")!), "10.99.1.2");
  assertEquals(formatIP(parseIP("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
  assertEquals(formatIP(parseIP("::1")!), "::1");
  assertEquals(formatIP(parseIP("::ffff:1.2.3.4")!), "1.2.3.4");
  assertEquals(formatIP(parseIP("fe80::")!), "fe80::");
  assertEquals(parseIP("1.2.3"), null);
  assertEquals(parseIP("01.2.3.4"), null);
  assertEquals(parseIP("1::2::3"), null);
  for (const ip of ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fdff::1"]) {
    assert(isPrivateIP(ip), ip);
  }
  for (const ip of ["172.32.0.1", "127.0.0.1", "100.64.0.1", "8.8.8.8", "fe80::1", "::1"]) {
    assert(!isPrivateIP(ip), ip);
  }
});

Deno.test("UdpProbe.buildProbe() matches the §5.2 vector (ID 0xA361, UDP checksum 0xBAE3)", () => {
  const probe = new UdpProbe(ep("1.2.3.4", 12345, "5.6.7.8", 33434)).buildProbe(4);
  assertEquals(probe.length, 36);
  assertEquals(u16(probe, 4), 0xa361);
  assertEquals(u16(probe, 6), 0x4000, "DF set");
  assertEquals(probe[8], 4);
  assertEquals(probe[9], 17);
  assertEquals(checksum(probe.subarray(0, 20)), 0, "IPv4 header checksum valid");
  assertEquals(u16(probe, 20), 12345);
  assertEquals(u16(probe, 22), 33434);
  assertEquals(u16(probe, 24), 16);
  assertEquals(u16(probe, 26), 0xbae3);
  assertEquals(new TextDecoder().decode(probe.subarray(28, 33)), "NSMNC");
  assertEquals(hex(probe.subarray(33, 36)), "00a361");
});

Deno.test("UdpProbe.buildProbe() IPv6 encodes the TTL in the payload length", () => {
  const p = new UdpProbe(ep("2001:db8::1", 4000, "2001:db8::2", 33434)).buildProbe(7);
  assertEquals(p[0] >> 4, 6);
  assertEquals(p[7], 7, "hop limit");
  assertEquals(u16(p, 4), 8 + 5 + 7, "payload length");
  assertEquals(new TextDecoder().decode(p.subarray(48)), "NSMNCNSMNCNS");
  assertEquals(pseudoChecksum(parseIP("2001:db8::1")!, parseIP("2001:db8::2")!, 17, p.subarray(40)), 0);
});

Deno.test("TcpSynProbe.buildProbe() matches the §5.3 vector (TCP checksum 0x675E)", () => {
  // vector: seq 1000, ID 41821, TTL 64 -> base = 41821 - 64
  const probe = new TcpSynProbe(ep("1.2.3.4", 12345, "5.6.7.8", 80), 1000, 41821 - 64, 1, 255).buildProbe(64);
  assertEquals(probe.length, 40);
  assertEquals(u16(probe, 4), 41821);
  assertEquals(u16(probe, 6), 0, "no flags");
  assertEquals(probe[8], 64);
  assertEquals(probe[33], TCP_FLAG.SYN);
  assertEquals(u16(probe, 34), 1024, "window");
  assertEquals(probe[32] >> 4, 5, "no options");
  assertEquals(u16(probe, 36), 0x675e);
});

Deno.test("IcmpProbe.buildProbe() IPv4: id = echo id, seq = TTL, one data byte", () => {
  const probe = new IcmpProbe(ep("10.0.0.1", 0, "10.0.0.9", 0), 7).buildProbe(3);
  assertEquals(probe.length, 29);
  assertEquals(u16(probe, 4), 7, "IP ID is the echo id");
  assertEquals(u16(probe, 6), 0, "no DF");
  assertEquals(probe[20], 8);
  assertEquals(u16(probe, 24), 7);
  assertEquals(u16(probe, 26), 3);
  assertEquals(probe[28], 3);
  assertEquals(checksum(probe.subarray(20)), 0);
});

Deno.test("IcmpProbe.buildProbe() IPv6: ICMPv6 echo with pseudo-header checksum", () => {
  const probe = new IcmpProbe(ep("2001:db8::1", 0, "2001:db8::2", 0), 9).buildProbe(5);
  assertEquals(probe[6], 58);
  assertEquals(probe[7], 5);
  assertEquals(probe[40], 128);
  assertEquals(u16(probe, 44), 9);
  assertEquals(u16(probe, 46), 5);
  assertEquals(pseudoChecksum(parseIP("2001:db8::1")!, parseIP("2001:db8::2")!, 58, probe.subarray(40)), 0);
});

Deno.test("parseTCP() decodes SACK-permitted, SACK blocks and timestamps", () => {
  const opts = new Uint8Array([4, 2, 1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 11, ...timestampsOption(7, 9)]);
  const seg = emitTCP(parseIP("1.1.1.1")!, parseIP("2.2.2.2")!, {
    sport: 80,
    dport: 5000,
    seq: 1,
    ack: 2,
    flags: TCP_FLAG.ACK,
    window: 100,
    options: opts,
  });
  const t = parseTCP(seg)!;
  assert(t.sackPermitted);
  assertEquals(t.sackBlocks, [[10, 11]]);
  assertEquals(t.tsVal, 7);
  assertEquals(t.tsEcr, 9);
  assertEquals(parseTCP(new Uint8Array(10)), null);
});

Deno.test("stripLinkHeader() handles Ethernet, VLAN, raw IP, DLT_NULL and cooked captures", () => {
  const ip = emitIPv4(
    { id: 1, ttl: 1, proto: 1, src: parseIP("1.1.1.1")!, dst: parseIP("2.2.2.2")! },
    new Uint8Array(8),
  );
  const eth = new Uint8Array(14 + ip.length);
  eth[12] = 0x08;
  eth.set(ip, 14);
  assertEquals(stripLinkHeader(eth, "ethernet"), ip);
  const vlan = new Uint8Array(18 + ip.length);
  vlan.set([0x81, 0x00, 0, 5, 0x08, 0x00], 12);
  vlan.set(ip, 18);
  assertEquals(stripLinkHeader(vlan, "ethernet"), ip);
  assertEquals(stripLinkHeader(ip, "raw"), ip, "tun/WireGuard: no link header");
  const nul = new Uint8Array(4 + ip.length);
  nul.set([2, 0, 0, 0]);
  nul.set(ip, 4);
  assertEquals(stripLinkHeader(nul, "null"), ip);
  const arp = new Uint8Array(60);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assertEquals(stripLinkHeader(arp, "ethernet"), null);
  // the reference's Ethernet-only stripping would eat 14 bytes of this raw IP packet
  assertEquals(parseFrame(ip, "ethernet"), null);
  assertEquals(parseFrame(ip, "raw")?.icmp?.type, 0, "raw IP parses");
});

Deno.test("parseIP() rejects truncated and malformed headers", () => {
  assertEquals(parseIPHeader(new Uint8Array(19)), null);
  const ip = emitIPv4(
    { id: 1, ttl: 1, proto: 6, src: new Uint8Array(4), dst: new Uint8Array(4) },
    new Uint8Array(20),
  );
  assertEquals(parseIPHeader(ip.subarray(0, 30)), null, "declared length exceeds bytes");
  assert(parseIPHeader(ip.subarray(0, 30), true), "allowed inside ICMP quotes");
  assertThrows(() => formatIP(new Uint8Array(5)), RangeError);
  assertEquals(parsePacket(new Uint8Array([0x45])), null);
});
