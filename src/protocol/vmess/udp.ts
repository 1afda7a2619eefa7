/**
 * VMess UDP (command 2) framing shared by the inbound and the outbound: each datagram is one
 * body chunk; with `packetaddr` the chunk starts with the datagram's address.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import type { PacketFraming } from "../../common/stream_packet_conn.ts";
import { decodePacketAddr, encodePacketAddr } from "./packetaddr.ts";

/**
 * Packet framing over a VMess body codec. Without `packetAddr` every datagram goes to and comes
 * from `destination`. An empty chunk is skipped; the in-band end chunk ends the connection.
 *
 * @throws {ProtocolError} From `decode` on a forged chunk or a bad packet address.
 */
export function vmessPacketFraming(
  encoder: StreamEncoder,
  decoder: StreamDecoder,
  destination: Socksaddr,
  packetAddr: boolean,
): PacketFraming {
  return {
    encode: (data, addr) => encoder.encode(packetAddr ? encodePacketAddr(addr, data) : data),
    decode: (q) => {
      for (;;) {
        const c = decoder.decode(q);
        if (decoder.done) return "eof";
        if (c === null) return null;
        if (!c.length) continue;
        if (!packetAddr) return { data: c.slice(), addr: destination };
        const p = decodePacketAddr(c);
        return { data: p.data.slice(), addr: p.addr };
      }
    },
  };
}
