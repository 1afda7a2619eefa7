/**
 * TCP SYN probes (spec traceroute.md §5.3): serial, IPv4 only, ID = base + TTL where base moves
 * forward by max-ttl per run, a fixed random seq per run, window 1024, no options.
 *
 * @module
 */
import { emitIPv4, IPPROTO } from "../packets/ip.ts";
import { emitTCP, ICMP, TCP_FLAG } from "../packets/transport.ts";
import type { ParsedPacket } from "../packets/frame.ts";
import type { ProbeCodec, ProbeEndpoints, ProbeMatch } from "./types.ts";

let idBase = 0;

/** Reserves `maxTtl` IP IDs for a run and returns the base (0 for the first run in the process). */
export function allocIdBase(maxTtl: number): number {
  const base = idBase;
  idBase = (idBase + maxTtl) & 0xffff;
  return base;
}

/** TCP SYN probe codec (IPv4). */
export class TcpSynProbe implements ProbeCodec {
  readonly parallel = false;
  readonly ep: ProbeEndpoints;
  readonly seq: number;
  readonly idBase: number;
  readonly minTtl: number;
  readonly maxTtl: number;
  /** TTL of the last probe built: a TCP answer is attributed to it. */
  lastTtl = 0;

  constructor(ep: ProbeEndpoints, seq: number, idBase: number, minTtl: number, maxTtl: number) {
    if (ep.targetBytes.length !== 4) throw new TypeError("TCP SYN traceroute supports IPv4 only");
    this.ep = ep;
    this.seq = seq >>> 0;
    this.idBase = idBase;
    this.minTtl = minTtl;
    this.maxTtl = maxTtl;
  }

  buildProbe(ttl: number): Uint8Array {
    const { localBytes: src, targetBytes: dst, localPort, targetPort } = this.ep;
    this.lastTtl = ttl;
    const tcp = emitTCP(src, dst, {
      sport: localPort,
      dport: targetPort,
      seq: this.seq,
      ack: 0,
      flags: TCP_FLAG.SYN,
      window: 1024,
    });
    return emitIPv4({ id: (this.idBase + ttl) & 0xffff, ttl, proto: IPPROTO.TCP, src, dst }, tcp);
  }

  match(p: ParsedPacket): ProbeMatch | null {
    const { ep } = this;
    if (p.icmp) {
      const icmp = p.icmp;
      if (p.ip.version !== 4 || icmp.type !== ICMP.V4_TIME_EXCEEDED || icmp.code !== 0 || !icmp.inner) {
        return null;
      }
      const inner = icmp.inner;
      if (inner.ip.proto !== IPPROTO.TCP) return null;
      if (inner.ip.dst !== ep.target || inner.dport !== ep.targetPort) return null;
      if (inner.ip.src !== ep.local || inner.sport !== ep.localPort) return null;
      if (inner.tcpSeq !== this.seq) return null;
      const ttl = (inner.ip.id - this.idBase) & 0xffff;
      if (ttl < this.minTtl || ttl > this.maxTtl) return null;
      return { ttl, ip: p.ip.src, isDest: false };
    }
    const tcp = p.tcp;
    if (!tcp) return null;
    if (p.ip.src !== ep.target || p.ip.dst !== ep.local) return null;
    if (tcp.sport !== ep.targetPort || tcp.dport !== ep.localPort) return null;
    const synAck = (tcp.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
    const rst = (tcp.flags & TCP_FLAG.RST) !== 0;
    if (!synAck && !rst) return null;
    if ((tcp.flags & TCP_FLAG.ACK) && ((tcp.ack - 1) >>> 0) !== this.seq) return null;
    return { ttl: this.lastTtl, ip: p.ip.src, isDest: true };
  }
}
