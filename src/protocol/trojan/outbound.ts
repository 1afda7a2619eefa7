/**
 * The `trojan` outbound (spec sing-box.md §1.2): TLS (normally on) and V2Ray transports; UDP
 * as command 3 with address-carrying packets inside the stream.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { Socksaddr, Stream } from "../../adapter/types.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { ProxyOutbound, proxyOutboundFields, type ProxyProtocol } from "../proxy_outbound.ts";
import {
  decodeTrojanPacket,
  encodeTrojanPacket,
  encodeTrojanRequest,
  TROJAN_CMD_CONNECT,
  TROJAN_CMD_UDP,
  trojanKey,
} from "./protocol.ts";

/** Options of a `trojan` outbound. */
export const trojanOutboundSchema = z.strictObject({
  type: z.literal("trojan"),
  tag: z.string().optional(),
  password: z.string(),
  ...proxyOutboundFields,
});

/** Parsed options. */
export type TrojanOutboundOptions = z.output<typeof trojanOutboundSchema>;

/** The Trojan request and UDP packet framing over one server connection. */
export function trojanOutboundProtocol(o: TrojanOutboundOptions): ProxyProtocol {
  const key = trojanKey(o.password);
  return {
    stream(conn: Stream, destination: Socksaddr): Stream {
      const header = encodeTrojanRequest(key, TROJAN_CMD_CONNECT, destination);
      // Raw stream after the header: the header rides with the first write (or goes out on read).
      return new CodecStream(conn, { encode: (p) => p }, {
        decode: (q) => (q.length ? q.take(q.length) : null),
      }, { rawPrefix: header });
    },
    packet: (conn: Stream, destination: Socksaddr) =>
      new StreamPacketConn(conn, {
        encode: (data, addr) => encodeTrojanPacket(addr, data),
        decode: decodeTrojanPacket,
      }, encodeTrojanRequest(key, TROJAN_CMD_UDP, destination)),
  };
}

/** Registers the `trojan` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "trojan",
    schema: trojanOutboundSchema,
    create: (ctx: OutboundContext, o: TrojanOutboundOptions) =>
      new ProxyOutbound("trojan", ctx, o, trojanOutboundProtocol(o)),
  });
}
