/**
 * The `packetaddr` UDP encoding of VMess and VLESS (sing-vmess `packetaddr`): the client opens a
 * UDP session to the magic destination `sp.packet-addr.v2fly.arpa:0` and every datagram carries
 * its own address, `ATYP (1 IPv4, 2 IPv6) ‖ address ‖ port (BE16) ‖ payload`. Domain names cannot
 * be carried. Sans-I/O codec plus a packet-conn wrapper that replays a peeked first packet.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import type { Packet, PacketConn, Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";

/** The magic destination host. */
export const PACKET_ADDR_HOST = "sp.packet-addr.v2fly.arpa";
/** The magic destination. */
export const PACKET_ADDR_DESTINATION: Socksaddr = { host: PACKET_ADDR_HOST, port: 0 };

/**
 * Prefixes `data` with the address of `addr`.
 *
 * @throws {ProtocolError} If `addr.host` is not an IP address.
 */
export function encodePacketAddr(addr: Socksaddr, data: Uint8Array): Uint8Array {
  if (!ipaddr.isValid(addr.host)) {
    throw new ProtocolError("packetaddr", 0, `domain destination ${addr.host} is not supported`);
  }
  const ip = ipaddr.process(addr.host).toByteArray();
  const out = new Uint8Array(1 + ip.length + 2 + data.length);
  out[0] = ip.length === 4 ? 1 : 2;
  out.set(ip, 1);
  out[1 + ip.length] = addr.port >> 8;
  out[2 + ip.length] = addr.port & 0xff;
  out.set(data, 3 + ip.length);
  return out;
}

/**
 * Splits a datagram into its address and payload (a view).
 *
 * @throws {ProtocolError} On an unknown address type or a datagram shorter than its address.
 */
export function decodePacketAddr(b: Uint8Array): Packet {
  if (!b.length) throw new ProtocolError("packetaddr", 0, "empty datagram");
  const len = b[0] === 1 ? 4 : b[0] === 2 ? 16 : -1;
  if (len < 0) throw new ProtocolError("packetaddr", 0, `unknown address type ${b[0]}`);
  if (b.length < 3 + len) throw new ProtocolError("packetaddr", b.length, "truncated address");
  const host = ipaddr.fromByteArray(Array.from(b.subarray(1, 1 + len))).toString();
  return { addr: { host, port: (b[1 + len] << 8) | b[2 + len] }, data: b.subarray(3 + len) };
}

/** A {@linkcode PacketConn} that returns `first` before reading `inner`. */
export class ReplayPacketConn implements PacketConn {
  #inner: PacketConn;
  #first: Packet | null;
  constructor(inner: PacketConn, first: Packet) {
    this.#inner = inner;
    this.#first = first;
  }
  readPacket(): Promise<Packet | null> {
    const f = this.#first;
    this.#first = null;
    return f ? Promise.resolve(f) : this.#inner.readPacket();
  }
  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    return this.#inner.writePacket(data, addr);
  }
  close(): void {
    this.#inner.close();
  }
}
