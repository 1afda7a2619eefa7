/**
 * The SOCKS5 address encoding (RFC 1928 §4/§5: ATYP, DST.ADDR, DST.PORT), shared by SOCKS,
 * Trojan, VLESS and paniq. Sans-I/O: bytes in, values out.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import type { Socksaddr } from "../adapter/types.ts";
import { ProtocolError } from "./errors.ts";

/** Address types (RFC 1928 §4). */
export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

/** Result of a decoder: the value and how many bytes it used, or `null` when more bytes are needed. */
export type Decoded<T> = { value: T; length: number } | null;

/** Reports whether `host` is an IPv4 or IPv6 literal. */
export function isIP(host: string): boolean {
  return ipaddr.isValid(host) && (host.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(host));
}

/** Formats `host:port`, bracketing IPv6 literals. */
export function formatAddr(a: Socksaddr): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Parses `host:port` or `[v6]:port`.
 * @throws {SyntaxError} If the port is missing or not 0..65535
 */
export function parseAddr(text: string): Socksaddr {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  if (!m) throw new SyntaxError(`Cannot parse address "${text}": expected host:port`);
  const port = Number(m[2]);
  if (port > 65535) throw new SyntaxError(`Cannot parse address "${text}": port out of range`);
  return { host: m[1]!, port };
}

/** Number of bytes `encodeSocksAddr(a)` produces. */
export function socksAddrLength(a: Socksaddr): number {
  if (isIP(a.host)) return a.host.includes(":") ? 1 + 16 + 2 : 1 + 4 + 2;
  return 1 + 1 + new TextEncoder().encode(a.host).length + 2;
}

/**
 * Encodes ATYP + address + port into `out` at `offset`; returns the bytes written.
 * @throws {RangeError} If a domain is longer than 255 bytes
 */
export function writeSocksAddr(a: Socksaddr, out: Uint8Array, offset: number): number {
  let i = offset;
  if (isIP(a.host)) {
    const bytes = ipaddr.parse(a.host).toByteArray();
    out[i++] = bytes.length === 4 ? ATYP_IPV4 : ATYP_IPV6;
    out.set(bytes, i);
    i += bytes.length;
  } else {
    const name = new TextEncoder().encode(a.host);
    if (name.length > 255) throw new RangeError(`Cannot encode domain "${a.host}": longer than 255 bytes`);
    out[i++] = ATYP_DOMAIN;
    out[i++] = name.length;
    out.set(name, i);
    i += name.length;
  }
  out[i++] = a.port >> 8;
  out[i++] = a.port & 0xff;
  return i - offset;
}

/** Encodes ATYP + address + port as a new array. */
export function encodeSocksAddr(a: Socksaddr): Uint8Array {
  const out = new Uint8Array(socksAddrLength(a));
  writeSocksAddr(a, out, 0);
  return out;
}

/**
 * Decodes ATYP + address + port from `buf` at `offset`.
 *
 * @param protocol codec name for error messages
 * @returns the address and its encoded length, or `null` if `buf` ends early
 * @throws {ProtocolError} On an unknown ATYP or an empty domain
 */
export function decodeSocksAddr(buf: Uint8Array, offset: number, protocol = "socks5"): Decoded<Socksaddr> {
  if (buf.length < offset + 1) return null;
  const atyp = buf[offset]!;
  let host: string;
  let i = offset + 1;
  if (atyp === ATYP_IPV4) {
    if (buf.length < i + 6) return null;
    host = `${buf[i]}.${buf[i + 1]}.${buf[i + 2]}.${buf[i + 3]}`;
    i += 4;
  } else if (atyp === ATYP_IPV6) {
    if (buf.length < i + 18) return null;
    host = ipaddr.fromByteArray(Array.from(buf.subarray(i, i + 16))).toString();
    i += 16;
  } else if (atyp === ATYP_DOMAIN) {
    if (buf.length < i + 1) return null;
    const len = buf[i]!;
    if (len === 0) throw new ProtocolError(protocol, i, "empty domain name");
    if (buf.length < i + 1 + len + 2) return null;
    host = new TextDecoder().decode(buf.subarray(i + 1, i + 1 + len));
    i += 1 + len;
  } else {
    throw new ProtocolError(protocol, offset, `unknown address type 0x${atyp.toString(16).padStart(2, "0")}`);
  }
  const port = (buf[i]! << 8) | buf[i + 1]!;
  return { value: { host, port }, length: i + 2 - offset };
}
