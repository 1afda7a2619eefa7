/**
 * TCP SACK probes (spec traceroute.md §5.4): after a real handshake, ACK|PSH segments with
 * seq = localInitSeq + TTL and one byte of payload; the receiver's smallest SACK left edge tells
 * the lowest TTL that reached it.
 *
 * @module
 */
import { emitIPv4, IPPROTO } from "../packets/ip.ts";
import { emitTCP, ICMP, TCP_FLAG, type TCPInfo, timestampsOption } from "../packets/transport.ts";
import type { ParsedPacket } from "../packets/frame.ts";
import { SackNotSupportedError } from "../errors.ts";
import type { ProbeCodec, ProbeEndpoints, ProbeMatch } from "./types.ts";

/** Sequence state learnt from the SYN-ACK. */
export interface SackState {
  localInitSeq: number;
  localInitAck: number;
  hasTS: boolean;
  tsValue: number;
  tsEcr: number;
}

/**
 * Derives the SACK state from the target's SYN-ACK.
 * @throws {SackNotSupportedError} If the SYN-ACK lacks SACK-Permitted.
 */
export function sackStateFromSynAck(synAck: TCPInfo, target: string): SackState {
  if (!synAck.sackPermitted) {
    throw new SackNotSupportedError(
      `SACK not supported by the target ${target} (missing SACK-permitted option)`,
    );
  }
  const hasTS = synAck.tsVal !== undefined;
  return {
    localInitSeq: synAck.ack >>> 0,
    localInitAck: (synAck.seq + 1) >>> 0,
    hasTS,
    tsValue: hasTS ? (synAck.tsEcr! + 50) >>> 0 : 0,
    tsEcr: hasTS ? synAck.tsVal! >>> 0 : 0,
  };
}

/** SACK probe codec (IPv4). */
export class SackProbe implements ProbeCodec {
  readonly parallel = true;
  readonly ep: ProbeEndpoints;
  readonly state: SackState;
  readonly minTtl: number;
  readonly maxTtl: number;

  constructor(ep: ProbeEndpoints, state: SackState, minTtl: number, maxTtl: number) {
    this.ep = ep;
    this.state = state;
    this.minTtl = minTtl;
    this.maxTtl = maxTtl;
  }

  buildProbe(ttl: number): Uint8Array {
    const { localBytes: src, targetBytes: dst, localPort, targetPort } = this.ep;
    const s = this.state;
    const tcp = emitTCP(src, dst, {
      sport: localPort,
      dport: targetPort,
      seq: (s.localInitSeq + ttl) >>> 0,
      ack: s.localInitAck,
      flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
      window: 1024,
      options: s.hasTS ? timestampsOption((s.tsValue + ttl) >>> 0, s.tsEcr) : undefined,
      payload: new Uint8Array([ttl]),
    });
    return emitIPv4({ id: 41821, ttl, proto: IPPROTO.TCP, src, dst }, tcp);
  }

  #inRange(rel: number): boolean {
    return rel >= this.minTtl && rel <= this.maxTtl;
  }

  match(p: ParsedPacket): ProbeMatch | null {
    const { ep, state } = this;
    if (p.tcp) {
      const t = p.tcp;
      if (p.ip.src !== ep.target || p.ip.dst !== ep.local) return null;
      if (t.sport !== ep.targetPort || t.dport !== ep.localPort) return null;
      if (t.flags & (TCP_FLAG.SYN | TCP_FLAG.FIN | TCP_FLAG.RST)) return null;
      if (t.sackBlocks.length === 0) {
        throw new SackNotSupportedError(
          "endpoint returned SACK-permitted but found no SACK options: sackDriver found no SACK options",
        );
      }
      let min = 0xffffffff;
      for (const [left] of t.sackBlocks) min = Math.min(min, (left - state.localInitSeq) >>> 0);
      if (!this.#inRange(min)) return null;
      return { ttl: min, ip: p.ip.src, isDest: true };
    }
    const icmp = p.icmp;
    if (!icmp || p.ip.version !== 4 || icmp.type !== ICMP.V4_TIME_EXCEEDED || icmp.code !== 0) return null;
    const inner = icmp.inner;
    if (!inner || inner.ip.proto !== IPPROTO.TCP) return null;
    if (inner.ip.dst !== ep.target || inner.dport !== ep.targetPort) return null;
    const rel = (inner.tcpSeq - state.localInitSeq) >>> 0;
    if (!this.#inRange(rel)) return null;
    return { ttl: rel, ip: p.ip.src, isDest: p.ip.src === ep.target };
  }
}
