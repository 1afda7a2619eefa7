/**
 * IP address text <-> bytes, without I/O. IPv6 text follows RFC 5952 (Go's `net.IP.String`).
 *
 * @module
 */
import { formatIp, parseIp } from "../../common/ip.ts";

/** Returns true when `s` is a dotted-quad IPv4 literal. */
export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== null;
}

/** Returns true when `s` is an IPv6 literal (no brackets). */
export function isIPv6(s: string): boolean {
  return parseIPv6(s) !== null;
}

/** Parses a dotted-quad IPv4 literal, or returns null. */
export function parseIPv4(s: string): Uint8Array | null {
  const b = parseIp(s);
  return b?.length === 4 ? b : null;
}

/** Parses an IPv6 literal (RFC 4291 text forms, optional trailing dotted quad), or returns null. */
export function parseIPv6(s: string): Uint8Array | null {
  const b = parseIp(s);
  return b?.length === 16 ? b : null;
}

/** Parses an IPv4 or IPv6 literal to 4 or 16 bytes (src/common/ip.ts). */
export function parseIP(s: string): Uint8Array | null {
  return parseIp(s);
}

/**
 * Formats 4 or 16 address bytes. IPv4-mapped IPv6 addresses print as dotted quads, as Go's
 * `net.IP.String()` does (the reference prints hop addresses that way).
 * @throws {RangeError} If the length is neither 4 nor 16.
 */
export function formatIP(b: Uint8Array): string {
  if (b.length !== 4 && b.length !== 16) throw new RangeError(`Cannot format IP address: ${b.length} bytes`);
  if (b.length === 16 && b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0)) {
    return formatIp(b.subarray(12));
  }
  return formatIp(b);
}

/** Normalises an IP literal to its canonical text (`::ffff:1.2.3.4` becomes `1.2.3.4`). */
export function canonicalIP(s: string): string {
  const b = parseIP(s);
  return b ? formatIP(b) : s;
}

/** Returns true for RFC 1918 IPv4 or fc00::/7 IPv6 (Go's `netip.Addr.IsPrivate`). */
export function isPrivateIP(s: string): boolean {
  const b = parseIP(s);
  if (!b) return false;
  const v4 = b.length === 4 ? b : (formatIP(b).includes(".") ? b.subarray(12) : null);
  if (v4) {
    return v4[0] === 10 || (v4[0] === 172 && (v4[1] & 0xf0) === 16) || (v4[0] === 192 && v4[1] === 168);
  }
  return (b[0] & 0xfe) === 0xfc;
}

/** Returns true for 127.0.0.0/8 and ::1. */
export function isLoopbackIP(s: string): boolean {
  const b = parseIP(s);
  if (!b) return false;
  if (b.length === 4) return b[0] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}
