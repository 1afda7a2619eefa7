/**
 * SagerNet UDP-over-TCP (sing `common/uot`; spec sing-box.md §2.2), sans-I/O.
 *
 * The client opens a TCP tunnel through a proxy to a magic host. Version 2
 * (`sp.v2.udp-over-tcp.arpa`) starts with a request `isConnect(1) ‖ SOCKS5 address` naming the
 * first peer. Then each datagram is `[address] ‖ length(2, BE) ‖ data`, where the address is
 * present unless `isConnect` and uses its own type bytes: 0 IPv4, 1 IPv6, 2 domain
 * (`len(1) ‖ name`), followed by the port (2, BE). Version 1 (`sp.udp-over-tcp.arpa`) has no
 * request and always carries addresses.
 *
 * @module
 */
import type { Packet, Socksaddr } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { ProtocolError } from "../../common/errors.ts";
import { formatIp, parseIp } from "../../common/ip.ts";
import { type Decoded, decodeSocksAddr, encodeSocksAddr } from "../../common/socks_addr.ts";
import type { PacketFraming } from "../../common/stream_packet_conn.ts";
import { encodeU16Prefixed, readU16Prefixed } from "../../common/length_prefix.ts";

/** Magic host of UoT version 2. */
export const UOT_MAGIC_HOST = "sp.v2.udp-over-tcp.arpa";
/** Magic host of the legacy UoT version 1. */
export const UOT_LEGACY_MAGIC_HOST = "sp.udp-over-tcp.arpa";
/** The current version. */
export const UOT_VERSION = 2;
/** The legacy version. */
export const UOT_LEGACY_VERSION = 1;

/** The tunnel destination a client dials for `version`. */
export function uotDestination(version: number): Socksaddr {
  return { host: version === UOT_LEGACY_VERSION ? UOT_LEGACY_MAGIC_HOST : UOT_MAGIC_HOST, port: 0 };
}

/** A version 2 request. */
export interface UotRequest {
  /** Datagrams carry no address: all go to and come from `destination`. */
  isConnect: boolean;
  destination: Socksaddr;
}

/** Encodes a version 2 request. */
export function encodeUotRequest(r: UotRequest): Uint8Array {
  const a = encodeSocksAddr(r.destination);
  const out = new Uint8Array(1 + a.length);
  out[0] = r.isConnect ? 1 : 0;
  out.set(a, 1);
  return out;
}

/**
 * Decodes a version 2 request; `null` while incomplete.
 *
 * @throws {ProtocolError} On an `isConnect` byte other than 0/1 or a bad address.
 */
export function decodeUotRequest(buf: Uint8Array): Decoded<UotRequest> {
  if (!buf.length) return null;
  if (buf[0] > 1) throw new ProtocolError("uot", 0, `bad isConnect byte ${buf[0]}`);
  const a = decodeSocksAddr(buf, 1, "uot");
  if (!a) return null;
  return { value: { isConnect: buf[0] === 1, destination: a.value }, length: 1 + a.length };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Encodes a datagram address with UoT type bytes.
 *
 * @throws {RangeError} If a domain is empty or longer than 255 bytes.
 */
export function encodeUotAddr(a: Socksaddr): Uint8Array {
  const ip = parseIp(a.host);
  const body = ip ?? enc.encode(a.host);
  if (!ip && (body.length === 0 || body.length > 255)) {
    throw new RangeError(`Cannot encode domain "${a.host}": bad length`);
  }
  const out = new Uint8Array(1 + (ip ? 0 : 1) + body.length + 2);
  let o = 0;
  out[o++] = ip ? (ip.length === 4 ? 0 : 1) : 2;
  if (!ip) out[o++] = body.length;
  out.set(body, o);
  o += body.length;
  out[o++] = a.port >> 8;
  out[o] = a.port & 0xff;
  return out;
}

/**
 * Decodes a datagram address at `offset`; `null` while incomplete.
 *
 * @throws {ProtocolError} On an unknown type or an empty domain.
 */
export function decodeUotAddr(buf: Uint8Array, offset = 0): Decoded<Socksaddr> {
  if (buf.length <= offset) return null;
  const t = buf[offset];
  let o = offset + 1;
  let host: string;
  if (t === 0 || t === 1) {
    const n = t === 0 ? 4 : 16;
    if (buf.length < o + n) return null;
    host = formatIp(buf.subarray(o, o + n));
    o += n;
  } else if (t === 2) {
    if (buf.length <= o) return null;
    const n = buf[o++];
    if (!n) throw new ProtocolError("uot", o - 1, "empty domain name");
    if (buf.length < o + n) return null;
    host = dec.decode(buf.subarray(o, o + n));
    o += n;
  } else {
    throw new ProtocolError("uot", offset, `unknown address type ${t}`);
  }
  if (buf.length < o + 2) return null;
  return { value: { host, port: (buf[o] << 8) | buf[o + 1] }, length: o + 2 - offset };
}

/**
 * Datagram framing of a UoT stream, the same in both directions. With `isConnect` the
 * datagrams carry no address and `destination` is every packet's peer.
 *
 * @throws {RangeError} From `encode` for a datagram over 65535 bytes.
 * @throws {ProtocolError} From `decode` on a bad address.
 */
export function uotFraming(isConnect: boolean, destination: Socksaddr): PacketFraming {
  return {
    encode: (data: Uint8Array, addr: Socksaddr) =>
      encodeU16Prefixed(isConnect ? new Uint8Array(0) : encodeUotAddr(addr), data),
    decode(q: ByteQueue): Packet | null {
      const b = q.peek();
      let o = 0;
      let addr = destination;
      if (!isConnect) {
        const a = decodeUotAddr(b);
        if (!a) return null;
        addr = a.value;
        o = a.length;
      }
      const p = readU16Prefixed(b, o);
      if (!p) return null;
      const data = p.data.slice();
      q.consume(p.end);
      return { data, addr };
    },
  };
}
