/**
 * Paris-style UDP probes (spec traceroute.md §5.2): constant ports, IPv4 ID = 41821 + TTL with DF
 * and an `NSMNC\0` + ID payload; IPv6 encodes the TTL in the payload length (5 + TTL).
 *
 * @module
 */
import { emitIPv4, emitIPv6, IPPROTO } from "../packets/ip.ts";
import { emitUDP, ICMP } from "../packets/transport.ts";
import type { ParsedPacket } from "../packets/frame.ts";
import type { ProbeCodec, ProbeEndpoints, ProbeMatch } from "./types.ts";

/** Base of the IPv4 identification: ID = 41821 + TTL. */
export const UDP_BASE_ID = 41821;
const MAGIC = new TextEncoder().encode("NSMNC");

/** Returns the 8-byte IPv4 probe payload: `NSMNC`, 0, then `id` big-endian. */
export function udpPayloadV4(id: number): Uint8Array {
  const out = new Uint8Array(8);
  out.set(MAGIC);
  out[6] = (id >> 8) & 0xff;
  out[7] = id & 0xff;
  return out;
}

/** Returns the IPv6 probe payload: `NSMNC` repeated, cut to 5 + TTL bytes. */
export function udpPayloadV6(ttl: number): Uint8Array {
  const out = new Uint8Array(5 + ttl);
  for (let i = 0; i < out.length; i++) out[i] = MAGIC[i % 5];
  return out;
}

/** Paris UDP probe codec for IPv4 and IPv6. */
export class UdpProbe implements ProbeCodec {
  readonly parallel = true;
  readonly ep: ProbeEndpoints;
  readonly v6: boolean;

  constructor(ep: ProbeEndpoints) {
    this.ep = ep;
    this.v6 = ep.targetBytes.length === 16;
  }

  buildProbe(ttl: number): Uint8Array {
    const { localBytes: src, targetBytes: dst, localPort, targetPort } = this.ep;
    if (this.v6) {
      const udp = emitUDP(src, dst, localPort, targetPort, udpPayloadV6(ttl));
      return emitIPv6({ hopLimit: ttl, nextHeader: IPPROTO.UDP, src, dst }, udp);
    }
    const id = (UDP_BASE_ID + ttl) & 0xffff;
    const udp = emitUDP(src, dst, localPort, targetPort, udpPayloadV4(id));
    return emitIPv4({ id, df: true, ttl, proto: IPPROTO.UDP, src, dst }, udp);
  }

  match(p: ParsedPacket): ProbeMatch | null {
    const icmp = p.icmp;
    if (!icmp?.inner) return null;
    const accepted = this.v6
      ? (icmp.type === ICMP.V6_TIME_EXCEEDED && icmp.code === 0) || icmp.type === ICMP.V6_DEST_UNREACH
      : (icmp.type === ICMP.V4_TIME_EXCEEDED && icmp.code === 0) || icmp.type === ICMP.V4_DEST_UNREACH;
    if (!accepted) return null;
    const inner = icmp.inner;
    if (inner.ip.proto !== IPPROTO.UDP) return null;
    if (inner.ip.dst !== this.ep.target || inner.dport !== this.ep.targetPort) return null;
    if (inner.ip.src !== this.ep.local || inner.sport !== this.ep.localPort) return null;
    const ttl = this.v6 ? inner.udpPayloadLength - 5 : inner.ip.id - UDP_BASE_ID;
    return { ttl, ip: p.ip.src, isDest: p.ip.src === this.ep.target };
  }
}
