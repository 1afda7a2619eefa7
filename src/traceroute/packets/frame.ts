/**
 * The common frame parser: strips the link header for the capture's link type, then parses IP and
 * TCP or ICMP(v6), including the packet quoted inside ICMP errors. Other transports are ignored.
 *
 * Unlike the reference (which always strips 14 bytes of Ethernet), the link type is explicit, so
 * captures on tun/WireGuard links (raw IP) parse correctly.
 *
 * @module
 */
import { type IPInfo, IPPROTO, parseIP } from "./ip.ts";
import { ICMP, parseTCP, parseUDP, type TCPInfo } from "./transport.ts";

/**
 * Link-layer framing of a captured buffer.
 * - `ethernet`: DLT_EN10MB, 14 bytes plus optional 802.1Q tags.
 * - `raw`: the buffer starts at the IP header (Linux SOCK_DGRAM packet sockets, DLT_RAW, tun).
 * - `null`: BSD loopback DLT_NULL, 4-byte host-order address family.
 * - `loop`: DLT_LOOP, 4-byte network-order address family.
 * - `sll`: Linux cooked capture v1 (16 bytes). `sll2`: v2 (20 bytes).
 */
export type LinkType = "ethernet" | "raw" | "null" | "loop" | "sll" | "sll2";

/** Maps a pcap DLT number to a {@linkcode LinkType}, or null when unsupported. */
export function linkTypeFromDLT(dlt: number): LinkType | null {
  switch (dlt) {
    case 1:
      return "ethernet";
    case 0:
      return "null";
    case 108:
      return "loop";
    case 12:
    case 14:
    case 101:
      return "raw";
    case 113:
      return "sll";
    case 276:
      return "sll2";
  }
  return null;
}

/** Returns the IP packet inside a captured frame, or null for non-IP frames. */
export function stripLinkHeader(frame: Uint8Array, link: LinkType): Uint8Array | null {
  let off = 0;
  let etherType = -1;
  switch (link) {
    case "raw":
      return frame;
    case "ethernet": {
      if (frame.length < 14) return null;
      off = 12;
      etherType = (frame[off] << 8) | frame[off + 1];
      off += 2;
      while ((etherType === 0x8100 || etherType === 0x88a8) && frame.length >= off + 4) {
        etherType = (frame[off + 2] << 8) | frame[off + 3];
        off += 4;
      }
      break;
    }
    case "null":
    case "loop": {
      if (frame.length < 4) return null;
      const le = frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24);
      const be = (frame[0] << 24) | (frame[1] << 16) | (frame[2] << 8) | frame[3];
      const fam = link === "loop" ? be : (le <= 0xffff ? le : be);
      off = 4;
      if (fam === 2) etherType = 0x0800;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) etherType = 0x86dd;
      break;
    }
    case "sll":
      if (frame.length < 16) return null;
      etherType = (frame[14] << 8) | frame[15];
      off = 16;
      break;
    case "sll2":
      if (frame.length < 20) return null;
      etherType = (frame[0] << 8) | frame[1];
      off = 20;
      break;
  }
  if (etherType !== 0x0800 && etherType !== 0x86dd) return null;
  return frame.subarray(off);
}

/** The packet quoted inside an ICMP error. */
export interface InnerPacket {
  ip: IPInfo;
  /** Source and destination ports (UDP/TCP), 0 otherwise. */
  sport: number;
  dport: number;
  /** TCP sequence number of the quoted segment. */
  tcpSeq: number;
  /** ICMP echo id/seq of a quoted echo request. */
  echoId: number;
  echoSeq: number;
  /** Length of the quoted UDP payload as declared by the quoted headers (IPv6 probe key). */
  udpPayloadLength: number;
  /** Bytes of the quoted UDP payload actually present. */
  udpPayload: Uint8Array;
}

/** A parsed ICMP or ICMPv6 message. */
export interface ICMPInfo {
  type: number;
  code: number;
  /** Echo request/reply identifier and sequence. */
  echoId: number;
  echoSeq: number;
  /** The quoted packet for Time Exceeded and Destination Unreachable. */
  inner?: InnerPacket;
}

/** A captured IP packet with its TCP or ICMP layer. */
export interface ParsedPacket {
  ip: IPInfo;
  icmp?: ICMPInfo;
  tcp?: TCPInfo;
}

function isErrorType(v6: boolean, type: number): boolean {
  return v6
    ? type === ICMP.V6_DEST_UNREACH || type === ICMP.V6_TIME_EXCEEDED
    : type === ICMP.V4_DEST_UNREACH || type === ICMP.V4_TIME_EXCEEDED;
}

function parseInner(b: Uint8Array): InnerPacket | undefined {
  const ip = parseIP(b, true);
  if (!ip) return undefined;
  const inner: InnerPacket = {
    ip,
    sport: 0,
    dport: 0,
    tcpSeq: 0,
    echoId: 0,
    echoSeq: 0,
    udpPayloadLength: 0,
    udpPayload: new Uint8Array(0),
  };
  const p = ip.payload;
  if (ip.proto === IPPROTO.UDP) {
    const u = parseUDP(p);
    if (!u) return inner;
    inner.sport = u.sport;
    inner.dport = u.dport;
    inner.udpPayloadLength = u.length - 8;
    inner.udpPayload = u.payload;
  } else if (ip.proto === IPPROTO.TCP) {
    const t = parseTCP(p, true);
    if (!t) return inner;
    inner.sport = t.sport;
    inner.dport = t.dport;
    inner.tcpSeq = t.seq;
  } else if ((ip.proto === IPPROTO.ICMP || ip.proto === IPPROTO.ICMPV6) && p.length >= 8) {
    inner.echoId = (p[4] << 8) | p[5];
    inner.echoSeq = (p[6] << 8) | p[7];
  }
  return inner;
}

/**
 * Parses an IP packet (no link header). Returns null when it is malformed or carries neither
 * TCP nor ICMP (the reference's "ignored, retry").
 */
export function parsePacket(b: Uint8Array): ParsedPacket | null {
  const ip = parseIP(b);
  if (!ip || ip.fragment) return null;
  const p = ip.payload;
  if (ip.proto === IPPROTO.TCP) {
    const tcp = parseTCP(p);
    return tcp ? { ip, tcp } : null;
  }
  const isIcmp = (ip.version === 4 && ip.proto === IPPROTO.ICMP) ||
    (ip.version === 6 && ip.proto === IPPROTO.ICMPV6);
  if (!isIcmp || p.length < 8) return null;
  const icmp: ICMPInfo = { type: p[0], code: p[1], echoId: (p[4] << 8) | p[5], echoSeq: (p[6] << 8) | p[7] };
  if (isErrorType(ip.version === 6, icmp.type)) icmp.inner = parseInner(p.subarray(8));
  return { ip, icmp };
}

/** Strips the link header of `frame` and parses it; null for anything not usable. */
export function parseFrame(frame: Uint8Array, link: LinkType): ParsedPacket | null {
  const ipPacket = stripLinkHeader(frame, link);
  return ipPacket ? parsePacket(ipPacket) : null;
}
