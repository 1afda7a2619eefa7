/**
 * The `vmess` outbound (spec sing-box.md §1.2): AEAD header (alter_id 0), security
 * auto/aes-128-gcm/chacha20-poly1305/none/zero, global padding, TLS and V2Ray transports.
 * UDP uses command 2 (one chunk per datagram, one destination per connection); with
 * `packet_encoding: packetaddr` one session to `sp.packet-addr.v2fly.arpa` whose datagrams
 * carry their addresses (IP only); with `xudp` command 3 and XUDP frames that carry each
 * datagram's address (domains too). `authenticated_length` seals chunk sizes.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { parseUuid } from "../../common/uuid.ts";
import { ProxyOutbound, proxyOutboundFields, type ProxyProtocol } from "../proxy_outbound.ts";
import { xudpClientFraming } from "../xudp/client.ts";
import { MUX_COOL_DESTINATION } from "../xudp/frame.ts";
import { CMD_MUX, CMD_UDP, type VmessUser, vmessUser } from "./header.ts";
import { PACKET_ADDR_DESTINATION } from "./packetaddr.ts";
import { vmessPacketFraming } from "./udp.ts";
import { vmessClient, vmessClientParts } from "./protocol.ts";

/** Options of a `vmess` outbound. */
export const vmessOutboundSchema = z.strictObject({
  type: z.literal("vmess"),
  tag: z.string().optional(),
  uuid: z.string(),
  security: z.enum(["auto", "none", "zero", "aes-128-gcm", "chacha20-poly1305"], {
    error: "expected security auto, none, zero, aes-128-gcm or chacha20-poly1305",
  }).optional(),
  alter_id: z.literal(0, { error: "only alter_id 0 (AEAD) is supported" }).optional(),
  global_padding: z.boolean().optional(),
  authenticated_length: z.boolean().optional(),
  packet_encoding: z.enum(["", "packetaddr", "xudp"], {
    error: 'expected packet_encoding "", "packetaddr" or "xudp"',
  }).optional(),
  ...proxyOutboundFields,
});

/** Parsed options. */
export type VmessOutboundOptions = z.output<typeof vmessOutboundSchema>;

/** The VMess handshake and UDP framings over one server connection. */
export function vmessOutboundProtocol(o: VmessOutboundOptions): ProxyProtocol {
  const user: VmessUser = vmessUser(parseUuid(o.uuid, "uuid"));
  const options = {
    security: o.security,
    globalPadding: o.global_padding,
    authenticatedLength: o.authenticated_length,
  };
  return {
    stream: (conn: Stream, destination: Socksaddr) => vmessClient(conn, user, destination, options),
    packet(conn: Stream, destination: Socksaddr): PacketConn {
      if (o.packet_encoding === "xudp") {
        const mux = vmessClient(conn, user, MUX_COOL_DESTINATION, { ...options, command: CMD_MUX });
        return new StreamPacketConn(mux, xudpClientFraming(destination));
      }
      const packetAddr = o.packet_encoding === "packetaddr";
      const { prefix, encoder, decoder } = vmessClientParts(
        user,
        packetAddr ? PACKET_ADDR_DESTINATION : destination,
        { ...options, command: CMD_UDP, packetMode: true },
      );
      return new StreamPacketConn(
        conn,
        vmessPacketFraming(encoder, decoder, destination, packetAddr),
        prefix,
      );
    },
  };
}

/** Registers the `vmess` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "vmess",
    schema: vmessOutboundSchema,
    create: (ctx: OutboundContext, o: VmessOutboundOptions) =>
      new ProxyOutbound("vmess", ctx, o, vmessOutboundProtocol(o)),
  });
}
