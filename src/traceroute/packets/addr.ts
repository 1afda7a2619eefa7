/**
 * IP address text <-> bytes, without I/O. IPv6 text follows RFC 5952 (Go's `net.IP.String`).
 *
 * @module
 */

/** Returns true when `s` is a dotted-quad IPv4 literal. */
export function isIPv4(s: string): boolean {
  return parseIPv4(s) !== null;
}

/** Returns true when `s` is an IPv6 literal (no brackets, no zone). */
export function isIPv6(s: string): boolean {
  return parseIPv6(s) !== null;
}

/** Parses a dotted-quad IPv4 literal, or returns null. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Parses an IPv6 literal (RFC 4291 text forms, optional trailing dotted quad), or returns null. */
export function parseIPv6(s: string): Uint8Array | null {
  if (s.includes("%")) s = s.slice(0, s.indexOf("%"));
  if (!s.includes(":")) return null;
  const out = new Uint8Array(16);
  let head = s;
  let tail = "";
  const dbl = s.indexOf("::");
  if (dbl >= 0) {
    if (s.indexOf("::", dbl + 1) >= 0) return null;
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
  }
  const groups = (str: string): number[] | null => {
    if (str === "") return [];
    const res: number[] = [];
    const parts = str.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (!v4) return null;
        res.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      res.push(parseInt(p, 16));
    }
    return res;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return null;
  if (dbl < 0 && h.length !== 8) return null;
  if (dbl >= 0 && h.length + t.length > 7) return null;
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}

/** Parses an IPv4 or IPv6 literal to 4 or 16 bytes. */
export function parseIP(s: string): Uint8Array | null {
  return parseIPv4(s) ?? parseIPv6(s);
}

/**
 * Formats 4 or 16 address bytes. IPv4-mapped IPv6 addresses print as dotted quads, as Go does.
 * @throws {RangeError} If the length is neither 4 nor 16.
 */
export function formatIP(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new RangeError(`Cannot format IP address: ${b.length} bytes`);
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return formatIP(b.subarray(12));
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  // longest run of >= 2 zero groups, first one on ties
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(":");
  const left = g.slice(0, bestStart).map((x) => x.toString(16)).join(":");
  const right = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(":");
  return `${left}::${right}`;
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
