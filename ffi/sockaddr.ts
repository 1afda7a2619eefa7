/**
 * Text ↔ `sockaddr` bytes for the batch UDP sockets: `sockaddr_in` (16 bytes) / `sockaddr_in6`
 * (28 bytes) as Linux lays them out (family little-endian, port big-endian; {@linkcode sockaddr}
 * in `libc.ts`). Literals are parsed and printed by `src/common/ip.ts`.
 *
 * @module
 */
import { formatIp, parseIp } from "../src/common/ip.ts";
import { C, sockaddr } from "./libc.ts";

/**
 * Encodes an IP literal (IPv6 optionally in brackets) and port as sockaddr bytes.
 * @throws {SyntaxError} If `hostname` is not an IPv4 or IPv6 literal
 */
export function encodeSockaddr(hostname: string, port: number): Uint8Array {
  const text = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const addr = parseIp(text);
  if (!addr) throw new SyntaxError(`not an IP literal: "${hostname}"`);
  return sockaddr(addr, port);
}

/** Decodes sockaddr bytes into a hostname as Deno prints it (`::ffff:a.b.c.d` for mapped) and port. */
export function decodeSockaddr(sa: Uint8Array): { hostname: string; port: number } {
  const port = (sa[2] << 8) | sa[3];
  return { hostname: formatIp(sa[0] === C.AF_INET ? sa.subarray(4, 8) : sa.subarray(8, 24)), port };
}

/** True if two sockaddrs hold the same family, address and port. */
export function sameSockaddr(a: Uint8Array, b: Uint8Array): boolean {
  if (a[0] !== b[0] || a[2] !== b[2] || a[3] !== b[3]) return false;
  const [from, to] = a[0] === C.AF_INET ? [4, 8] : [8, 24];
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
