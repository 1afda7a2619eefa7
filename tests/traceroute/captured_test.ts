/**
 * Parser and matcher tests on replies captured from the namespace lab with tcpdump (Linux kernel
 * routers; fixtures/lab_*.pcap, Ethernet link type). Each file holds one run's probes and replies.
 * The probes are also rebuilt from their parameters and compared byte for byte.
 */
import { assertEquals } from "./_assert.ts";
import { linkTypeFromDLT, type ParsedPacket, parseFrame } from "../../src/traceroute/packets/frame.ts";
import { UdpProbe } from "../../src/traceroute/probe/udp.ts";
import { IcmpProbe } from "../../src/traceroute/probe/icmp.ts";
import { TcpSynProbe } from "../../src/traceroute/probe/tcp_syn.ts";
import type { ProbeCodec, ProbeEndpoints } from "../../src/traceroute/probe/types.ts";
import { parseIP } from "../../src/traceroute/packets/addr.ts";
import { stripLinkHeader } from "../../src/traceroute/packets/frame.ts";

const HOPS = ["10.99.1.1", "10.99.2.2", "10.99.3.2", "10.99.4.2"];

/** Reads a classic pcap file: link type and frames. */
function readPcap(b: Uint8Array): { dlt: number; frames: Uint8Array[] } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4;
  const dlt = v.getUint32(20, le);
  const frames: Uint8Array[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = v.getUint32(off + 8, le);
    frames.push(b.subarray(off + 16, off + 16 + incl));
    off += 16 + incl;
  }
  return { dlt, frames };
}

function load(name: string) {
  const { dlt, frames } = readPcap(Deno.readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
  const link = linkTypeFromDLT(dlt)!;
  assertEquals(link, "ethernet");
  const pkts = frames.map((f) => ({ raw: stripLinkHeader(f, link)!, p: parseFrame(f, link)! }));
  const fromClient = (raw: Uint8Array) => raw.subarray(12, 16).join(".") === "10.99.1.2";
  const probes = pkts.filter((x) => fromClient(x.raw));
  const replies = pkts.filter((x) => !fromClient(x.raw));
  return { probes, replies };
}

function ep(sport: number, dport: number): ProbeEndpoints {
  return {
    local: "10.99.1.2",
    localBytes: parseIP("10.99.1.2")!,
    localPort: sport,
    target: "10.99.4.2",
    targetBytes: parseIP("10.99.4.2")!,
    targetPort: dport,
  };
}

function hopsOf(codec: ProbeCodec, replies: { p: ParsedPacket }[]) {
  return replies.map((r) => codec.match(r.p)).map((m) => m && [m.ttl, m.ip, m.isDest]);
}

Deno.test("captured UDP run: probes are byte-exact, Time Exceeded and Port Unreachable match", () => {
  const { probes, replies } = load("lab_udp.pcap");
  // UDP is not a TCP/ICMP packet, so the frame parser ignores the probes: read the ports from bytes
  const raw0 = probes[0].raw;
  assertEquals(probes[0].p, null);
  const codec = new UdpProbe(ep((raw0[20] << 8) | raw0[21], (raw0[22] << 8) | raw0[23]));
  probes.forEach((x, i) => assertEquals(codec.buildProbe(i + 1), x.raw));
  assertEquals(hopsOf(codec, replies), HOPS.map((ip, i) => [i + 1, ip, i === 3]));
  assertEquals(replies[3].p.icmp!.type, 3);
  assertEquals(replies[3].p.icmp!.code, 3);
});

Deno.test("captured ICMP run: echo id from the probe, Time Exceeded quotes and the Echo Reply match", () => {
  const { probes, replies } = load("lab_icmp.pcap");
  const id = probes[0].p.icmp!.echoId;
  const codec = new IcmpProbe(ep(0, 0), id);
  probes.forEach((x, i) => assertEquals(codec.buildProbe(i + 1), x.raw));
  assertEquals(hopsOf(codec, replies), HOPS.map((ip, i) => [i + 1, ip, i === 3]));
  assertEquals(hopsOf(new IcmpProbe(ep(0, 0), id + 1), replies), [null, null, null, null]);
});

Deno.test("captured TCP SYN run: (IP ID, seq) from the quotes, RST|ACK from the target", () => {
  const { probes, replies } = load("lab_tcp.pcap");
  const t = probes[0].p.tcp!;
  const idBase = probes[0].p.ip.id - 1;
  const codec = new TcpSynProbe(ep(t.sport, t.dport), t.seq, idBase, 1, 30);
  const matched = replies.map((r, i) => {
    codec.buildProbe(i + 1); // serial: the probe before each reply
    return codec.match(r.p);
  });
  probes.forEach((x, i) => assertEquals(codec.buildProbe(i + 1), x.raw));
  assertEquals(matched.map((m) => m && [m.ttl, m.ip, m.isDest]), HOPS.map((ip, i) => [i + 1, ip, i === 3]));
});
