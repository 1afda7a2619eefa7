/**
 * IPv4 and IPv6 header emit and parse (sans-I/O).
 *
 * @module
 */
import { checksum } from "./checksum.ts";
import { formatIP } from "./addr.ts";

/** IP protocol numbers used by the tracer. */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** Fields of an IPv4 header to emit. */
export interface IPv4Header {
  tos?: number;
  id: number;
  /** Don't Fragment. */
  df?: boolean;
  ttl: number;
  proto: number;
  src: Uint8Array;
  dst: Uint8Array;
}

/**
 * Returns an IPv4 packet: a 20-byte header (no options) followed by `payload`, checksum filled.
 */
export function emitIPv4(h: IPv4Header, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = 0x45;
  out[1] = h.tos ?? 0;
  v.setUint16(2, out.length);
  v.setUint16(4, h.id & 0xffff);
  v.setUint16(6, h.df ? 0x4000 : 0);
  out[8] = h.ttl & 0xff;
  out[9] = h.proto;
  out.set(h.src, 12);
  out.set(h.dst, 16);
  v.setUint16(10, checksum(out.subarray(0, 20)));
  out.set(payload, 20);
  return out;
}

/** Fields of an IPv6 header to emit. */
export interface IPv6Header {
  hopLimit: number;
  nextHeader: number;
  src: Uint8Array;
  dst: Uint8Array;
}

/** Returns an IPv6 packet: the 40-byte header followed by `payload`. */
export function emitIPv6(h: IPv6Header, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = 0x60;
  v.setUint16(4, payload.length);
  out[6] = h.nextHeader;
  out[7] = h.hopLimit & 0xff;
  out.set(h.src, 8);
  out.set(h.dst, 24);
  out.set(payload, 40);
  return out;
}

/** A parsed IP header: version, addresses and where the transport starts. */
export interface IPInfo {
  version: 4 | 6;
  src: string;
  dst: string;
  srcBytes: Uint8Array;
  dstBytes: Uint8Array;
  ttl: number;
  /** IPv4 identification (0 for IPv6). */
  id: number;
  /** Transport protocol (IPv6: the next header after skipping extension headers). */
  proto: number;
  /** IPv4 "more fragments" set or fragment offset non-zero. */
  fragment: boolean;
  /** Transport bytes (may be truncated inside ICMP errors). */
  payload: Uint8Array;
  /** IPv6 payload length field, or IPv4 total length minus header. */
  payloadLength: number;
}

const EXT_HEADERS = new Set([0, 43, 60, 51]);

/**
 * Parses an IPv4 or IPv6 header at the start of `b`. `truncatedOk` allows the declared length
 * to exceed the bytes present, as it does for packets quoted inside ICMP errors.
 * Returns null for malformed input.
 */
export function parseIP(b: Uint8Array, truncatedOk = false): IPInfo | null {
  if (b.length < 1) return null;
  const ver = b[0] >> 4;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (ver === 4) {
    if (b.length < 20) return null;
    const ihl = (b[0] & 0x0f) * 4;
    if (ihl < 20 || b.length < ihl) return null;
    const total = v.getUint16(2);
    if (total < ihl) return null;
    if (!truncatedOk && total > b.length) return null;
    const end = Math.min(total, b.length);
    const frag = v.getUint16(6);
    const srcBytes = b.slice(12, 16), dstBytes = b.slice(16, 20);
    return {
      version: 4,
      src: formatIP(srcBytes),
      dst: formatIP(dstBytes),
      srcBytes,
      dstBytes,
      ttl: b[8],
      id: v.getUint16(4),
      proto: b[9],
      fragment: (frag & 0x2000) !== 0 || (frag & 0x1fff) !== 0,
      payload: b.subarray(ihl, end),
      payloadLength: total - ihl,
    };
  }
  if (ver === 6) {
    if (b.length < 40) return null;
    const plen = v.getUint16(4);
    if (!truncatedOk && 40 + plen > b.length) return null;
    let next = b[6];
    let off = 40;
    let fragment = false;
    const end = Math.min(40 + plen, b.length);
    while (EXT_HEADERS.has(next) || next === 44) {
      if (off + 8 > end) return null;
      if (next === 44) {
        fragment = true;
        next = b[off];
        off += 8;
        continue;
      }
      const len = next === 51 ? (b[off + 1] + 2) * 4 : (b[off + 1] + 1) * 8;
      next = b[off];
      off += len;
    }
    if (off > end) return null;
    const srcBytes = b.slice(8, 24), dstBytes = b.slice(24, 40);
    return {
      version: 6,
      src: formatIP(srcBytes),
      dst: formatIP(dstBytes),
      srcBytes,
      dstBytes,
      ttl: b[7],
      id: 0,
      proto: next,
      fragment,
      payload: b.subarray(off, end),
      payloadLength: plen - (off - 40),
    };
  }
  return null;
}
