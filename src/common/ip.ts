/**
 * IP address and prefix helpers on raw bytes: parse and format IPv4/IPv6 literals, CIDR
 * prefixes, containment and the "private" test sing-box uses (`ip_is_private`).
 *
 * @module
 */

const IPV4_REGEXP = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses an IPv4 or IPv6 literal (no brackets, optional `%zone` dropped) into 4 or 16 bytes.
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`) stays 16 bytes. Returns `null` for anything else.
 *
 * @example Usage
 * ```ts
 * import { parseIp } from "./ip.ts";
 * parseIp("10.0.0.1"); // Uint8Array [10, 0, 0, 1]
 * ```
 */
export function parseIp(text: string): Uint8Array | null {
  const m = IPV4_REGEXP.exec(text);
  if (m) {
    const out = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      const v = Number(m[i + 1]);
      if (v > 255 || (m[i + 1].length > 1 && m[i + 1][0] === "0")) return null;
      out[i] = v;
    }
    return out;
  }
  return parseIpv6(text);
}

function parseIpv6(input: string): Uint8Array | null {
  let text = input;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (text.length < 2 || !text.includes(":")) return null;
  const out = new Uint8Array(16);
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = IPV4_REGEXP.test(g) ? parseIp(g) : null;
        if (!v4) return null;
        bytes.push(...v4);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      const v = parseInt(g, 16);
      bytes.push(v >> 8, v & 0xff);
    }
    return bytes;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 && head.length !== 16) return null;
  if (halves.length === 2 && head.length + tail.length > 14) return null;
  out.set(head, 0);
  out.set(tail, 16 - tail.length);
  return out;
}

/** Returns 4 or 6 for an IP literal, 0 otherwise. */
export function isIP(text: string): 0 | 4 | 6 {
  const b = parseIp(text);
  return b ? (b.length === 4 ? 4 : 6) : 0;
}

/** Formats 4 or 16 bytes as the canonical literal (RFC 5952 for IPv6). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** An IP prefix: the network bytes (host bits cleared) and the prefix length. */
export interface IpPrefix {
  addr: Uint8Array;
  bits: number;
}

/**
 * Parses `addr/bits` or a bare address (a /32 or /128). Host bits are cleared.
 *
 * @throws {SyntaxError} If the text is not a prefix
 */
export function parsePrefix(text: string): IpPrefix {
  const slash = text.indexOf("/");
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!addr) throw new SyntaxError(`Cannot parse IP prefix "${text}": bad address`);
  const max = addr.length * 8;
  const bits = slash < 0 ? max : Number(text.slice(slash + 1));
  if (
    !Number.isInteger(bits) || bits < 0 || bits > max || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))
  ) {
    throw new SyntaxError(`Cannot parse IP prefix "${text}": bad prefix length`);
  }
  return { addr: maskBytes(addr, bits), bits };
}

/** Returns a copy of `addr` with every bit past `bits` cleared. */
export function maskBytes(addr: Uint8Array, bits: number): Uint8Array {
  const out = addr.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] &= keep === 8 ? 0xff : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/** True when `addr` (same family) lies in `prefix`. */
export function prefixContains(prefix: IpPrefix, addr: Uint8Array): boolean {
  if (addr.length !== prefix.addr.length) return false;
  const full = prefix.bits >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== prefix.addr[i]) return false;
  const rest = prefix.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full] & mask) === prefix.addr[full];
}

/** Formats a prefix as `addr/bits`. */
export function formatPrefix(prefix: IpPrefix): string {
  return `${formatIp(prefix.addr)}/${prefix.bits}`;
}

/** Unmaps `::ffff:a.b.c.d` to 4 bytes; other addresses are returned as they are. */
export function unmapIp(addr: Uint8Array): Uint8Array {
  if (
    addr.length === 16 && addr[10] === 0xff && addr[11] === 0xff && addr.subarray(0, 10).every((b) => b === 0)
  ) {
    return addr.slice(12);
  }
  return addr;
}
