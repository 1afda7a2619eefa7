/**
 * ICMP, ICMPv6, UDP and TCP segment emit and parse (sans-I/O).
 *
 * @module
 */
import { checksum, pseudoChecksum } from "./checksum.ts";
import { IPPROTO } from "./ip.ts";

/** ICMP type numbers the tracer cares about. */
export const ICMP = {
  V4_ECHO_REPLY: 0,
  V4_DEST_UNREACH: 3,
  V4_ECHO_REQUEST: 8,
  V4_TIME_EXCEEDED: 11,
  V6_DEST_UNREACH: 1,
  V6_TIME_EXCEEDED: 3,
  V6_ECHO_REQUEST: 128,
  V6_ECHO_REPLY: 129,
} as const;

/** TCP flag bits. */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/**
 * Returns an ICMP (v4, `src`/`dst` unused) or ICMPv6 (pseudo-header checksum over `src`/`dst`)
 * echo request with identifier `id`, sequence `seq` and `data`.
 */
export function emitEcho(
  v6: boolean,
  id: number,
  seq: number,
  data: Uint8Array,
  src?: Uint8Array,
  dst?: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const v = new DataView(out.buffer);
  out[0] = v6 ? ICMP.V6_ECHO_REQUEST : ICMP.V4_ECHO_REQUEST;
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, seq & 0xffff);
  out.set(data, 8);
  const ck = v6 ? pseudoChecksum(src!, dst!, IPPROTO.ICMPV6, out) : checksum(out);
  v.setUint16(2, ck);
  return out;
}

/** Returns a UDP datagram with its checksum computed over the `src`/`dst` pseudo-header. */
export function emitUDP(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint16(4, out.length);
  out.set(data, 8);
  let ck = pseudoChecksum(src, dst, IPPROTO.UDP, out);
  if (ck === 0) ck = 0xffff;
  v.setUint16(6, ck);
  return out;
}

/** Fields of a TCP segment to emit. */
export interface TCPSegment {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Raw option bytes, a multiple of 4 long. */
  options?: Uint8Array;
  payload?: Uint8Array;
}

/** Returns a TCP segment with its checksum computed over the `src`/`dst` pseudo-header. */
export function emitTCP(src: Uint8Array, dst: Uint8Array, s: TCPSegment): Uint8Array {
  const opt = s.options ?? new Uint8Array(0);
  const pay = s.payload ?? new Uint8Array(0);
  const hl = 20 + opt.length;
  const out = new Uint8Array(hl + pay.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, s.sport);
  v.setUint16(2, s.dport);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  out[12] = (hl / 4) << 4;
  out[13] = s.flags;
  v.setUint16(14, s.window);
  out.set(opt, 20);
  out.set(pay, hl);
  v.setUint16(16, pseudoChecksum(src, dst, IPPROTO.TCP, out));
  return out;
}

/** A parsed TCP header (options decoded for SACK-Permitted, SACK blocks and Timestamps). */
export interface TCPInfo {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  sackPermitted: boolean;
  /** SACK blocks as [left, right] edges. */
  sackBlocks: [number, number][];
  /** Timestamps option, when present. */
  tsVal?: number;
  tsEcr?: number;
  payloadLength: number;
}

/**
 * Parses a TCP header. With `partial`, only the first 8 bytes (ports and seq) are required,
 * as inside an ICMP error quote. Returns null when too short.
 */
export function parseTCP(b: Uint8Array, partial = false): TCPInfo | null {
  if (b.length < (partial ? 8 : 20)) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const info: TCPInfo = {
    sport: v.getUint16(0),
    dport: v.getUint16(2),
    seq: v.getUint32(4),
    ack: b.length >= 12 ? v.getUint32(8) : 0,
    flags: b.length >= 14 ? b[13] : 0,
    window: b.length >= 16 ? v.getUint16(14) : 0,
    sackPermitted: false,
    sackBlocks: [],
    payloadLength: 0,
  };
  if (b.length < 20) return info;
  const hl = (b[12] >> 4) * 4;
  if (hl < 20 || hl > b.length) return partial ? info : null;
  info.payloadLength = b.length - hl;
  for (let i = 20; i < hl;) {
    const kind = b[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= hl) break;
    const len = b[i + 1];
    if (len < 2 || i + len > hl) break;
    if (kind === 4) info.sackPermitted = true;
    else if (kind === 5) {
      for (let j = i + 2; j + 8 <= i + len; j += 8) {
        info.sackBlocks.push([v.getUint32(j), v.getUint32(j + 4)]);
      }
    } else if (kind === 8 && len === 10) {
      info.tsVal = v.getUint32(i + 2);
      info.tsEcr = v.getUint32(i + 6);
    }
    i += len;
  }
  return info;
}

/** A parsed UDP header. */
export interface UDPInfo {
  sport: number;
  dport: number;
  length: number;
  payload: Uint8Array;
}

/** Parses the first 8 bytes of a UDP header; returns null when shorter. */
export function parseUDP(b: Uint8Array): UDPInfo | null {
  if (b.length < 8) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { sport: v.getUint16(0), dport: v.getUint16(2), length: v.getUint16(4), payload: b.subarray(8) };
}

/** Builds the TCP Timestamps option padded with two NOPs (12 bytes), as the SACK prober sends it. */
export function timestampsOption(tsVal: number, tsEcr: number): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  out[0] = 8;
  out[1] = 10;
  v.setUint32(2, tsVal >>> 0);
  v.setUint32(6, tsEcr >>> 0);
  out[10] = 1;
  out[11] = 1;
  return out;
}
