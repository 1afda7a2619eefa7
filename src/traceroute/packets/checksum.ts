/**
 * The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums used by UDP, TCP and ICMPv6.
 *
 * @module
 */

/** Adds the 16-bit big-endian words of `data` to `sum` (unfolded). */
export function sum16(data: Uint8Array, sum = 0): number {
  const n = data.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.length & 1) sum += data[data.length - 1] << 8;
  return sum;
}

/** Folds a 32-bit sum and returns its one's complement as a 16-bit checksum. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Returns the Internet checksum of `data`. */
export function checksum(data: Uint8Array): number {
  return fold(sum16(data));
}

/**
 * Returns the transport checksum of `segment` (its checksum field zeroed by the caller) with the
 * pseudo-header for `src`/`dst` (4 or 16 bytes each) and protocol `proto`.
 */
export function pseudoChecksum(src: Uint8Array, dst: Uint8Array, proto: number, segment: Uint8Array): number {
  let sum = sum16(src) + sum16(dst) + proto;
  if (src.length === 16) sum += Math.floor(segment.length / 0x10000) + (segment.length & 0xffff);
  else sum += segment.length;
  return fold(sum16(segment, sum));
}
