/**
 * The proxy stream request and reply (paniq.md §3.6): request `01 ATYP ADDR PORT` with no
 * command byte (CONNECT implied); reply `01 STATUS ATYP ADDR PORT`. Incremental decoders
 * return `null` while more bytes are needed.
 *
 * @module
 */
import { ProtocolError } from "../../common/errors.ts";
import type { Socksaddr } from "../../adapter/types.ts";

export const PROXY_VERSION = 1;
export const ATYP_IPV4 = 1;
export const ATYP_DOMAIN = 3;
export const ATYP_IPV6 = 4;
export const STATUS_OK = 0;
export const STATUS_FAILURE = 1;
export const STATUS_BAD_REQUEST = 2;

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIPv4(s: string): Uint8Array | null {
  const m = IPV4_RE.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x, i) => x > 255 || (m[i + 1].length > 1 && m[i + 1][0] === "0"))) return null;
  return new Uint8Array(b);
}

/** Parses an IPv6 literal (no brackets, optional zone ignored); `null` if it is not one. */
export function parseIPv6(s: string): Uint8Array | null {
  if (!s.includes(":")) return null;
  let text = s.split("%")[0];
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIPv4(tail);
    if (!v4) return null;
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (h: string) => h === "" ? [] : h.split(":");
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const words = [...head, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...rest].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Formats 16 bytes as a compressed IPv6 literal. */
export function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

function encodeAddress(host: string): Uint8Array {
  const v4 = parseIPv4(host);
  if (v4) return new Uint8Array([ATYP_IPV4, ...v4]);
  const v6 = parseIPv6(host);
  if (v6) {
    const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
    return mapped ? new Uint8Array([ATYP_IPV4, ...v6.subarray(12)]) : new Uint8Array([ATYP_IPV6, ...v6]);
  }
  const name = new TextEncoder().encode(host);
  if (name.length > 255) throw new RangeError(`Cannot encode host "${host.slice(0, 32)}…": name longer than 255 bytes`);
  if (name.length === 0) throw new RangeError("Cannot encode host: empty name");
  return new Uint8Array([ATYP_DOMAIN, name.length, ...name]);
}

/**
 * Encodes a request. IP strings go as IPs; an IPv4-mapped IPv6 address goes as ATYP 1.
 *
 * @throws {RangeError} If the name is longer than 255 bytes or the port is out of range
 */
export function encodeProxyRequest(dest: Socksaddr): Uint8Array {
  if (!Number.isInteger(dest.port) || dest.port < 0 || dest.port > 65535) {
    throw new RangeError(`Cannot encode port ${dest.port}: out of range`);
  }
  const addr = encodeAddress(dest.host);
  const out = new Uint8Array(1 + addr.length + 2);
  out[0] = PROXY_VERSION;
  out.set(addr, 1);
  out[out.length - 2] = dest.port >> 8;
  out[out.length - 1] = dest.port & 0xff;
  return out;
}

/** A decoded message and the number of bytes it used. */
export interface Decoded<T> {
  value: T;
  length: number;
}

function decodeAddr(buf: Uint8Array, off: number, proto: string): Decoded<string> | null {
  if (buf.length < off + 1) return null;
  const atyp = buf[off];
  switch (atyp) {
    case ATYP_IPV4:
      if (buf.length < off + 5) return null;
      return { value: Array.from(buf.subarray(off + 1, off + 5)).join("."), length: 5 };
    case ATYP_IPV6:
      if (buf.length < off + 17) return null;
      return { value: formatIPv6(buf.subarray(off + 1, off + 17)), length: 17 };
    case ATYP_DOMAIN: {
      if (buf.length < off + 2) return null;
      const n = buf[off + 1];
      if (buf.length < off + 2 + n) return null;
      return { value: new TextDecoder().decode(buf.subarray(off + 2, off + 2 + n)), length: 2 + n };
    }
    default:
      throw new ProtocolError(proto, off, `unsupported address type ${atyp}`);
  }
}

/**
 * Decodes a request from the start of `buf`; `null` if incomplete.
 *
 * @throws {ProtocolError} On a bad version or address type
 */
export function decodeProxyRequest(buf: Uint8Array): Decoded<Socksaddr> | null {
  if (buf.length < 1) return null;
  if (buf[0] !== PROXY_VERSION) throw new ProtocolError("paniq-proxy", 0, `unsupported version ${buf[0]}`);
  const addr = decodeAddr(buf, 1, "paniq-proxy");
  if (!addr) return null;
  const p = 1 + addr.length;
  if (buf.length < p + 2) return null;
  return { value: { host: addr.value, port: (buf[p] << 8) | buf[p + 1] }, length: p + 2 };
}

/** A proxy reply. */
export interface ProxyReply {
  status: number;
  bind: Socksaddr;
}

/** Encodes a reply; `bind` must be an IP (ATYP 1 or 4). Failures use `0.0.0.0:0`. */
export function encodeProxyReply(status: number, bind: Socksaddr = { host: "0.0.0.0", port: 0 }): Uint8Array {
  const v4 = parseIPv4(bind.host);
  let addr: Uint8Array;
  if (v4) addr = new Uint8Array([ATYP_IPV4, ...v4]);
  else {
    const v6 = parseIPv6(bind.host);
    if (!v6) throw new RangeError(`Cannot encode bind address "${bind.host}": not an IP`);
    const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
    addr = mapped ? new Uint8Array([ATYP_IPV4, ...v6.subarray(12)]) : new Uint8Array([ATYP_IPV6, ...v6]);
  }
  return new Uint8Array([PROXY_VERSION, status, ...addr, bind.port >> 8, bind.port & 0xff]);
}

/**
 * Decodes a reply (ATYP 1, 3 or 4); `null` if incomplete.
 *
 * @throws {ProtocolError} On a bad version or address type
 */
export function decodeProxyReply(buf: Uint8Array): Decoded<ProxyReply> | null {
  if (buf.length < 1) return null;
  if (buf[0] !== PROXY_VERSION) throw new ProtocolError("paniq-proxy", 0, `unsupported version ${buf[0]}`);
  if (buf.length < 2) return null;
  const addr = decodeAddr(buf, 2, "paniq-proxy");
  if (!addr) return null;
  const p = 2 + addr.length;
  if (buf.length < p + 2) return null;
  return { value: { status: buf[1], bind: { host: addr.value, port: (buf[p] << 8) | buf[p + 1] } }, length: p + 2 };
}
