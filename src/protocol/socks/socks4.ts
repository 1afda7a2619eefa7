/**
 * SOCKS4 and SOCKS4a messages, sans-I/O. Request: `VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL`,
 * and for 4a (DSTIP = 0.0.0.x, x ≠ 0) a `DOMAIN NUL` follows. Reply: `VN=0 CD DSTPORT DSTIP`
 * with CD 90 granted / 91 rejected.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type Decoded, isIP } from "../../common/socks_addr.ts";

export const VERSION4 = 0x04;
export const CD_CONNECT = 0x01;
export const CD_BIND = 0x02;
export const CD_GRANTED = 90;
export const CD_REJECTED = 91;

/** Longest accepted USERID or domain, bytes. */
export const MAX_FIELD = 255;

/** A decoded SOCKS4/4a request. */
export interface Socks4Request {
  command: number;
  destination: Socksaddr;
  userId: string;
}

function findNul(buf: Uint8Array, from: number, what: string): number | null {
  const end = Math.min(buf.length, from + MAX_FIELD + 1);
  for (let i = from; i < end; i++) if (buf[i] === 0) return i;
  if (buf.length > from + MAX_FIELD) {
    throw new ProtocolError("socks4", from, `${what} longer than ${MAX_FIELD} bytes`);
  }
  return null;
}

/** Decodes a SOCKS4 or SOCKS4a request. */
export function decodeSocks4Request(buf: Uint8Array): Decoded<Socks4Request> {
  if (buf.length < 9) return null;
  if (buf[0] !== VERSION4) throw new ProtocolError("socks4", 0, `unsupported version ${buf[0]}`);
  const port = (buf[2]! << 8) | buf[3]!;
  const ip = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  const userEnd = findNul(buf, 8, "USERID");
  if (userEnd === null) return null;
  const td = new TextDecoder();
  const userId = td.decode(buf.subarray(8, userEnd));
  let host = ip;
  let length = userEnd + 1;
  if (buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0) {
    const nameEnd = findNul(buf, userEnd + 1, "domain");
    if (nameEnd === null) return null;
    if (nameEnd === userEnd + 1) throw new ProtocolError("socks4a", nameEnd, "empty domain name");
    host = td.decode(buf.subarray(userEnd + 1, nameEnd));
    length = nameEnd + 1;
  }
  return { value: { command: buf[1]!, destination: { host, port }, userId }, length };
}

/**
 * Encodes a SOCKS4 request, or SOCKS4a when the destination is a domain.
 * @throws {RangeError} If the destination is IPv6 (SOCKS4 has no IPv6)
 */
export function encodeSocks4Request(command: number, destination: Socksaddr, userId = ""): Uint8Array {
  const te = new TextEncoder();
  const user = te.encode(userId);
  let ip = [0, 0, 0, 1];
  let name: Uint8Array | null = te.encode(destination.host);
  if (isIP(destination.host)) {
    if (destination.host.includes(":")) {
      throw new RangeError("Cannot encode SOCKS4 request: IPv6 destination");
    }
    ip = destination.host.split(".").map(Number);
    name = null;
  }
  const out = new Uint8Array(8 + user.length + 1 + (name ? name.length + 1 : 0));
  out[0] = VERSION4;
  out[1] = command;
  out[2] = destination.port >> 8;
  out[3] = destination.port & 0xff;
  out.set(ip, 4);
  out.set(user, 8);
  if (name) out.set(name, 9 + user.length);
  return out;
}

/** Encodes a reply (8 bytes). */
export function encodeSocks4Reply(
  granted: boolean,
  bound: Socksaddr = { host: "0.0.0.0", port: 0 },
): Uint8Array {
  const ip = isIP(bound.host) && !bound.host.includes(":") ? bound.host.split(".").map(Number) : [0, 0, 0, 0];
  return Uint8Array.of(0, granted ? CD_GRANTED : CD_REJECTED, bound.port >> 8, bound.port & 0xff, ...ip);
}

/** Decodes a reply; `value` is the CD code. */
export function decodeSocks4Reply(buf: Uint8Array): Decoded<number> {
  if (buf.length < 8) return null;
  if (buf[0] !== 0) throw new ProtocolError("socks4", 0, `unexpected reply version ${buf[0]}`);
  return { value: buf[1]!, length: 8 };
}
