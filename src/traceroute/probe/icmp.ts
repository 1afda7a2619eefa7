/**
 * ICMP echo probes (spec traceroute.md §5.1): id = per-process echo counter, seq = TTL, one data
 * byte = TTL; the IPv4 ID is the echo id, no DF.
 *
 * @module
 */
import { emitIPv4, emitIPv6, IPPROTO } from "../packets/ip.ts";
import { emitEcho, ICMP } from "../packets/transport.ts";
import type { ParsedPacket } from "../packets/frame.ts";
import type { ProbeCodec, ProbeEndpoints, ProbeMatch } from "./types.ts";

let echoCounter = 0;

/** Returns the next process-wide echo id (1, 2, …, wrapping at 16 bits, skipping 0). */
export function nextEchoId(): number {
  echoCounter = (echoCounter % 0xffff) + 1;
  return echoCounter;
}

/** ICMP echo probe codec for IPv4 and IPv6. */
export class IcmpProbe implements ProbeCodec {
  readonly parallel = true;
  readonly ep: ProbeEndpoints;
  readonly echoId: number;
  readonly v6: boolean;

  constructor(ep: ProbeEndpoints, echoId: number) {
    this.ep = ep;
    this.echoId = echoId;
    this.v6 = ep.targetBytes.length === 16;
  }

  buildProbe(ttl: number): Uint8Array {
    const { localBytes: src, targetBytes: dst } = this.ep;
    const data = new Uint8Array([ttl]);
    if (this.v6) {
      return emitIPv6(
        { hopLimit: ttl, nextHeader: IPPROTO.ICMPV6, src, dst },
        emitEcho(true, this.echoId, ttl, data, src, dst),
      );
    }
    return emitIPv4(
      { id: this.echoId, ttl, proto: IPPROTO.ICMP, src, dst },
      emitEcho(false, this.echoId, ttl, data),
    );
  }

  match(p: ParsedPacket): ProbeMatch | null {
    const icmp = p.icmp;
    if (!icmp) return null;
    const te = this.v6 ? ICMP.V6_TIME_EXCEEDED : ICMP.V4_TIME_EXCEEDED;
    const reply = this.v6 ? ICMP.V6_ECHO_REPLY : ICMP.V4_ECHO_REPLY;
    if (icmp.type === te) {
      const inner = icmp.inner;
      if (!inner || inner.ip.dst !== this.ep.target || inner.ip.src !== this.ep.local) return null;
      if (inner.echoId !== this.echoId) return null;
      return { ttl: inner.echoSeq, ip: p.ip.src, isDest: false };
    }
    if (icmp.type === reply && icmp.echoId === this.echoId) {
      return { ttl: icmp.echoSeq, ip: p.ip.src, isDest: true };
    }
    return null;
  }
}
