/**
 * The proxy stream request and reply (paniq.md §3.6): request `01 ATYP ADDR PORT` with no
 * command byte (CONNECT implied); reply `01 STATUS ATYP ADDR PORT`. The address part is the
 * SOCKS5 encoding of `common/socks_addr.ts`. Decoders return `null` while more bytes are needed.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import type { Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import {
  type Decoded,
  decodeSocksAddr,
  isIP,
  socksAddrLength,
  writeSocksAddr,
} from "../../common/socks_addr.ts";

export const PROXY_VERSION = 1;
export const STATUS_OK = 0;
export const STATUS_FAILURE = 1;
/** Defined by Go but never sent. */
export const STATUS_BAD_REQUEST = 2;

const PROTO = "paniq-proxy";

/** IP strings go as IPs; an IPv4-mapped IPv6 address goes as ATYP 1 (as Go's `To4`). */
function normalizeHost(host: string): string {
  if (!isIP(host) || !host.includes(":")) return host;
  const a = ipaddr.IPv6.parse(host);
  return a.isIPv4MappedAddress() ? a.toIPv4Address().toString() : host;
}

function encodeWithPrefix(prefix: number[], a: Socksaddr): Uint8Array {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
    throw new RangeError(`Cannot encode port ${a.port}: out of range`);
  }
  const addr = { host: normalizeHost(a.host), port: a.port };
  const out = new Uint8Array(prefix.length + socksAddrLength(addr));
  out.set(prefix);
  writeSocksAddr(addr, out, prefix.length);
  return out;
}

/**
 * Encodes a request.
 *
 * @throws {RangeError} If the name is longer than 255 bytes or the port is out of range
 */
export function encodeProxyRequest(dest: Socksaddr): Uint8Array {
  return encodeWithPrefix([PROXY_VERSION], dest);
}

/**
 * Decodes a request from the start of `buf`; `null` if incomplete.
 *
 * @throws {ProtocolError} On a bad version or address type
 */
export function decodeProxyRequest(buf: Uint8Array): Decoded<Socksaddr> {
  if (buf.length < 1) return null;
  if (buf[0] !== PROXY_VERSION) throw new ProtocolError(PROTO, 0, `unsupported version ${buf[0]}`);
  const a = decodeSocksAddr(buf, 1, PROTO);
  return a && { value: a.value, length: 1 + a.length };
}

/** A proxy reply. */
export interface ProxyReply {
  status: number;
  bind: Socksaddr;
}

/**
 * Encodes a reply. `bind` must be an IP; failures use `0.0.0.0:0`.
 *
 * @throws {RangeError} If `bind` is not an IP literal
 */
export function encodeProxyReply(status: number, bind: Socksaddr = { host: "0.0.0.0", port: 0 }): Uint8Array {
  if (!isIP(bind.host)) throw new RangeError(`Cannot encode bind address "${bind.host}": not an IP`);
  return encodeWithPrefix([PROXY_VERSION, status], bind);
}

/**
 * Decodes a reply (ATYP 1, 3 or 4); `null` if incomplete.
 *
 * @throws {ProtocolError} On a bad version or address type
 */
export function decodeProxyReply(buf: Uint8Array): Decoded<ProxyReply> {
  if (buf.length < 1) return null;
  if (buf[0] !== PROXY_VERSION) throw new ProtocolError(PROTO, 0, `unsupported version ${buf[0]}`);
  if (buf.length < 2) return null;
  const a = decodeSocksAddr(buf, 2, PROTO);
  return a && { value: { status: buf[1], bind: a.value }, length: 2 + a.length };
}
