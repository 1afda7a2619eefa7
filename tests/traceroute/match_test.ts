import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { parseIP } from "../../src/traceroute/packets/addr.ts";
import { emitIPv4, emitIPv6 } from "../../src/traceroute/packets/ip.ts";
import { parsePacket } from "../../src/traceroute/packets/frame.ts";
import { checksum, pseudoChecksum } from "../../src/traceroute/packets/checksum.ts";
import { emitTCP, TCP_FLAG } from "../../src/traceroute/packets/transport.ts";
import { UdpProbe } from "../../src/traceroute/probe/udp.ts";
import { TcpSynProbe } from "../../src/traceroute/probe/tcp_syn.ts";
import { IcmpProbe } from "../../src/traceroute/probe/icmp.ts";
import { SackProbe, sackStateFromSynAck } from "../../src/traceroute/probe/sack.ts";
import { SackNotSupportedError } from "../../src/traceroute/errors.ts";
import type { ProbeEndpoints } from "../../src/traceroute/probe/types.ts";

const LOCAL = "10.99.1.2", TARGET = "10.99.4.2", HOP = "10.99.2.2";

function ep(lport: number, tport: number, local = LOCAL, target = TARGET): ProbeEndpoints {
  return {
    local,
    localBytes: parseIP(local)!,
    localPort: lport,
    target,
    targetBytes: parseIP(target)!,
    targetPort: tport,
  };
}

/** An ICMPv4 error from `from` quoting the first 28+ bytes of `probe`, as a router sends it. */
function icmpError(from: string, to: string, type: number, code: number, probe: Uint8Array): Uint8Array {
  const quote = probe.subarray(0, Math.min(probe.length, 28 + 8));
  const body = new Uint8Array(8 + quote.length);
  body[0] = type;
  body[1] = code;
  body.set(quote, 8);
  const ck = checksum(body);
  body[2] = ck >> 8;
  body[3] = ck & 0xff;
  return emitIPv4({ id: 99, ttl: 64, proto: 1, src: parseIP(from)!, dst: parseIP(to)! }, body);
}

function icmp6Error(from: string, to: string, type: number, code: number, probe: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + probe.length);
  body[0] = type;
  body[1] = code;
  body.set(probe, 8);
  const ck = pseudoChecksum(parseIP(from)!, parseIP(to)!, 58, body);
  body[2] = ck >> 8;
  body[3] = ck & 0xff;
  return emitIPv6({ hopLimit: 64, nextHeader: 58, src: parseIP(from)!, dst: parseIP(to)! }, body);
}

Deno.test("UdpProbe.match(): Time Exceeded gives the hop, Port Unreachable from the target is the destination", () => {
  const codec = new UdpProbe(ep(40000, 33434));
  const te = parsePacket(icmpError(HOP, LOCAL, 11, 0, codec.buildProbe(2)))!;
  assertEquals(codec.match(te), { ttl: 2, ip: HOP, isDest: false });
  const pu = parsePacket(icmpError(TARGET, LOCAL, 3, 3, codec.buildProbe(4)))!;
  assertEquals(codec.match(pu), { ttl: 4, ip: TARGET, isDest: true });
  // a router's unreachable is an ordinary hop
  const hu = parsePacket(icmpError(HOP, LOCAL, 3, 1, codec.buildProbe(3)))!;
  assertEquals(codec.match(hu), { ttl: 3, ip: HOP, isDest: false });
  // TE code 1 (reassembly) is not accepted
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 11, 1, codec.buildProbe(2)))!), null);
  // another run's source port is not ours
  const other = new UdpProbe(ep(40001, 33434));
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 11, 0, other.buildProbe(2)))!), null);
});

Deno.test("UdpProbe.match() IPv6: TTL from the quoted payload length", () => {
  const e = ep(5000, 33434, "2001:db8:1::2", "2001:db8:4::2");
  const codec = new UdpProbe(e);
  const te = parsePacket(icmp6Error("2001:db8:2::2", "2001:db8:1::2", 3, 0, codec.buildProbe(6)))!;
  assertEquals(codec.match(te), { ttl: 6, ip: "2001:db8:2::2", isDest: false });
  const du = parsePacket(icmp6Error("2001:db8:4::2", "2001:db8:1::2", 1, 4, codec.buildProbe(9)))!;
  assertEquals(codec.match(du), { ttl: 9, ip: "2001:db8:4::2", isDest: true });
});

Deno.test("IcmpProbe.match(): Time Exceeded by embedded id/seq, Echo Reply is the destination", () => {
  const codec = new IcmpProbe(ep(0, 0), 42);
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 11, 0, codec.buildProbe(2)))!), {
    ttl: 2,
    ip: HOP,
    isDest: false,
  });
  const reply = codec.buildProbe(4).slice(20);
  reply[0] = 0;
  reply[2] = reply[3] = 0;
  const ck = checksum(reply);
  reply[2] = ck >> 8;
  reply[3] = ck & 0xff;
  const pkt = emitIPv4({ id: 1, ttl: 60, proto: 1, src: parseIP(TARGET)!, dst: parseIP(LOCAL)! }, reply);
  assertEquals(codec.match(parsePacket(pkt)!), { ttl: 4, ip: TARGET, isDest: true });
  // Destination Unreachable is not handled by ICMP traceroute
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 3, 1, codec.buildProbe(2)))!), null);
  // another echo id
  assertEquals(new IcmpProbe(ep(0, 0), 43).match(parsePacket(pkt)!), null);
});

Deno.test("TcpSynProbe.match(): TE by (IP ID, seq), SYN-ACK/RST attributed to the last probe", () => {
  const codec = new TcpSynProbe(ep(45000, 80), 0xdeadbeef, 100, 1, 30);
  const p3 = codec.buildProbe(3);
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 11, 0, p3))!), {
    ttl: 3,
    ip: HOP,
    isDest: false,
  });
  assertEquals(codec.match(parsePacket(icmpError(HOP, LOCAL, 11, 1, p3))!), null, "code 0 only");
  codec.buildProbe(5);
  const t = parseIP(TARGET)!, l = parseIP(LOCAL)!;
  const rstAck = emitTCP(t, l, {
    sport: 80,
    dport: 45000,
    seq: 0,
    ack: 0xdeadbef0,
    flags: TCP_FLAG.RST | TCP_FLAG.ACK,
    window: 0,
  });
  const pkt = emitIPv4({ id: 0, ttl: 60, proto: 6, src: t, dst: l }, rstAck);
  assertEquals(codec.match(parsePacket(pkt)!), { ttl: 5, ip: TARGET, isDest: true });
  const badAck = emitTCP(t, l, {
    sport: 80,
    dport: 45000,
    seq: 0,
    ack: 5,
    flags: TCP_FLAG.RST | TCP_FLAG.ACK,
    window: 0,
  });
  assertEquals(
    codec.match(parsePacket(emitIPv4({ id: 0, ttl: 60, proto: 6, src: t, dst: l }, badAck))!),
    null,
  );
  const bareRst = emitTCP(t, l, { sport: 80, dport: 45000, seq: 0, ack: 5, flags: TCP_FLAG.RST, window: 0 });
  assertEquals(
    codec.match(parsePacket(emitIPv4({ id: 0, ttl: 60, proto: 6, src: t, dst: l }, bareRst))!)?.isDest,
    true,
  );
  assertThrows(() => new TcpSynProbe(ep(1, 2, "::1", "::2"), 1, 0, 1, 30), TypeError);
});

Deno.test("SackProbe: state from the SYN-ACK, ACK|PSH probes, min SACK left edge, NotSupported", () => {
  const t = parseIP(TARGET)!, l = parseIP(LOCAL)!;
  const synAckNoSack = parsePacket(emitIPv4(
    { id: 0, ttl: 60, proto: 6, src: t, dst: l },
    emitTCP(t, l, {
      sport: 443,
      dport: 50000,
      seq: 1000,
      ack: 5001,
      flags: TCP_FLAG.SYN | TCP_FLAG.ACK,
      window: 1,
    }),
  ))!;
  assertThrows(
    () => sackStateFromSynAck(synAckNoSack.tcp!, "x"),
    SackNotSupportedError,
    "missing SACK-permitted",
  );
  const opts = new Uint8Array([4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 1, 1]);
  const synAck = parsePacket(emitIPv4(
    { id: 0, ttl: 60, proto: 6, src: t, dst: l },
    emitTCP(t, l, { sport: 443, dport: 50000, seq: 1000, ack: 5001, flags: 0x12, window: 1, options: opts }),
  ))!;
  const state = sackStateFromSynAck(synAck.tcp!, "x");
  assertEquals(state, { localInitSeq: 5001, localInitAck: 1001, hasTS: true, tsValue: 59, tsEcr: 7 });
  const codec = new SackProbe(ep(50000, 443), state, 1, 30);
  const probe = codec.buildProbe(3);
  const seg = parsePacket(probe)!.tcp!;
  assertEquals(seg.seq, 5004);
  assertEquals(seg.ack, 1001);
  assertEquals(seg.flags, TCP_FLAG.ACK | TCP_FLAG.PSH);
  assertEquals([seg.tsVal, seg.tsEcr], [62, 7]);
  assertEquals(seg.payloadLength, 1);
  // dup ACK with SACK blocks for TTL 4 and 3: the smallest left edge wins
  const sackOpt = new Uint8Array([
    1,
    1,
    5,
    18,
    0,
    0,
    0x13,
    0x8d,
    0,
    0,
    0x13,
    0x8e,
    0,
    0,
    0x13,
    0x8c,
    0,
    0,
    0x13,
    0x8d,
  ]);
  const ack = parsePacket(emitIPv4(
    { id: 0, ttl: 60, proto: 6, src: t, dst: l },
    emitTCP(t, l, {
      sport: 443,
      dport: 50000,
      seq: 1001,
      ack: 5001,
      flags: TCP_FLAG.ACK,
      window: 1,
      options: sackOpt,
    }),
  ))!;
  assertEquals(codec.match(ack), { ttl: 3, ip: TARGET, isDest: true });
  const plainAck = parsePacket(emitIPv4(
    { id: 0, ttl: 60, proto: 6, src: t, dst: l },
    emitTCP(t, l, { sport: 443, dport: 50000, seq: 1001, ack: 5001, flags: TCP_FLAG.ACK, window: 1 }),
  ))!;
  assertThrows(() => codec.match(plainAck), SackNotSupportedError, "found no SACK options");
  // Time Exceeded: TTL from the quoted seq, source not checked (loosened)
  assertEquals(codec.match(parsePacket(icmpError(HOP, "10.0.0.77", 11, 0, probe))!), {
    ttl: 3,
    ip: HOP,
    isDest: false,
  });
  assert(
    codec.match(parsePacket(icmpError(TARGET, LOCAL, 11, 0, probe))!)!.isDest,
    "TE from the target itself",
  );
});
