/**
 * Text ↔ `sockaddr` bytes for the batch UDP sockets: `sockaddr_in` (16 bytes) / `sockaddr_in6`
 * (28 bytes) as Linux lays them out (family little-endian, port big-endian). The byte layout
 * itself is {@linkcode sockaddr} in `libc.ts`.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import { C, sockaddr } from "./libc.ts";

/**
 * Encodes an IP literal (IPv6 optionally in brackets) and port as sockaddr bytes.
 * @throws {SyntaxError} If `hostname` is not an IPv4 or IPv6 literal
 */
export function encodeSockaddr(hostname: string, port: number): Uint8Array {
  const addr = parseIPv4(hostname) ?? parseIPv6(hostname);
  if (!addr) throw new SyntaxError(`not an IP literal: "${hostname}"`);
  return sockaddr(addr, port);
}

/** Decodes sockaddr bytes into a hostname as Deno prints it (`::ffff:a.b.c.d` for mapped) and port. */
export function decodeSockaddr(sa: Uint8Array): { hostname: string; port: number } {
  const port = (sa[2] << 8) | sa[3];
  if (sa[0] === C.AF_INET) return { hostname: `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`, port };
  const a = sa.subarray(8, 24);
  let mapped = a[10] === 0xff && a[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = a[i] === 0;
  if (mapped) return { hostname: `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`, port };
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  // RFC 5952: compress the longest run (≥ 2) of zero words.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  const hostname = best < 0
    ? hex(words)
    : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
  return { hostname, port };
}

/** True if two sockaddrs hold the same family, address and port. */
export function sameSockaddr(a: Uint8Array, b: Uint8Array): boolean {
  if (a[0] !== b[0] || a[2] !== b[2] || a[3] !== b[3]) return false;
  const [from, to] = a[0] === C.AF_INET ? [4, 8] : [8, 24];
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function parseIPv4(s: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return null;
    b[i] = v;
  }
  return b;
}

function parseIPv6(s: string): Uint8Array | null {
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (!s.includes(":") || !ipaddr.IPv6.isValid(s)) return null;
  return new Uint8Array(ipaddr.IPv6.parse(s).toByteArray());
}
