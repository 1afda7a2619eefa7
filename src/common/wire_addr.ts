/**
 * The V2Ray address encoding used by VMess and VLESS: `PORT(2, BE) ATYP(1: IPv4, 2: domain,
 * 3: IPv6) ADDR`. The SOCKS5 encoding (Shadowsocks, Trojan) is in `socks_addr.ts`.
 *
 * @module
 */
import type { Socksaddr } from "../adapter/types.ts";
import { ProtocolError } from "./errors.ts";
import { formatIp, parseIp } from "./ip.ts";
import type { Decoded } from "./socks_addr.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Byte length of `addr` in V2Ray style. */
export function vAddrLength(addr: Socksaddr): number {
  const ip = parseIp(addr.host);
  return ip ? 3 + ip.length : 4 + enc.encode(addr.host).length;
}

/**
 * Writes `addr` V2Ray style into `out` at `offset`; returns the new offset.
 *
 * @throws {RangeError} If a domain is empty or longer than 255 bytes.
 */
export function writeVAddr(out: Uint8Array, offset: number, addr: Socksaddr): number {
  let o = offset;
  out[o++] = addr.port >> 8;
  out[o++] = addr.port & 0xff;
  const ip = parseIp(addr.host);
  if (ip) {
    out[o++] = ip.length === 4 ? 1 : 3;
    out.set(ip, o);
    o += ip.length;
  } else {
    const d = enc.encode(addr.host);
    if (d.length > 255 || d.length === 0) {
      throw new RangeError(`Cannot encode domain "${addr.host}": bad length`);
    }
    out[o++] = 2;
    out[o++] = d.length;
    out.set(d, o);
    o += d.length;
  }
  return o;
}

/**
 * Reads a V2Ray-style address at `offset`. Returns `null` when more bytes are needed.
 *
 * @throws {ProtocolError} If the address type is unknown or a domain is empty.
 */
export function readVAddr(buf: Uint8Array, offset = 0, protocol = "vmess"): Decoded<Socksaddr> {
  if (buf.length < offset + 3) return null;
  const port = (buf[offset] << 8) | buf[offset + 1];
  const atyp = buf[offset + 2];
  let o = offset + 3;
  let host: string;
  if (atyp === 1 || atyp === 3) {
    const n = atyp === 1 ? 4 : 16;
    if (buf.length < o + n) return null;
    host = formatIp(buf.subarray(o, o + n));
    o += n;
  } else if (atyp === 2) {
    if (buf.length < o + 1) return null;
    const n = buf[o++];
    if (n === 0) throw new ProtocolError(protocol, o - 1, "empty domain name");
    if (buf.length < o + n) return null;
    host = dec.decode(buf.subarray(o, o + n));
    o += n;
  } else {
    throw new ProtocolError(protocol, offset + 2, `unknown address type ${atyp}`);
  }
  return { value: { host, port }, length: o - offset };
}
