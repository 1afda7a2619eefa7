/**
 * The `vless` outbound (spec sing-box.md §1.2) without flow: TLS and V2Ray transports. UDP is
 * XUDP by default (command 3, every datagram names its address); `packet_encoding: ""` sends
 * command 2 with length-prefixed datagrams to one destination, `packetaddr` those datagrams
 * to `sp.packet-addr.v2fly.arpa` with addresses inside. `flow` is refused.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import { encodeU16Prefixed, readU16Prefixed } from "../../common/length_prefix.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { parseUuid } from "../../common/uuid.ts";
import { decodePacketAddr, encodePacketAddr, PACKET_ADDR_DESTINATION } from "../vmess/packetaddr.ts";
import { ProxyOutbound, proxyOutboundFields, type ProxyProtocol } from "../proxy_outbound.ts";
import { xudpClientFraming } from "../xudp/client.ts";
import { MUX_COOL_DESTINATION } from "../xudp/frame.ts";
import { encodeVlessRequest, VLESS_CMD_MUX, VLESS_CMD_UDP, vlessClient } from "./protocol.ts";

const EMPTY = new Uint8Array(0);

/** Options of a `vless` outbound. */
export const vlessOutboundSchema = z.strictObject({
  type: z.literal("vless"),
  tag: z.string().optional(),
  uuid: z.string(),
  flow: z.literal("", { error: "flow is not supported by this build" }).optional(),
  packet_encoding: z.enum(["", "packetaddr", "xudp"], {
    error: 'expected packet_encoding "", "packetaddr" or "xudp"',
  }).optional(),
  ...proxyOutboundFields,
});

/** Parsed options. */
export type VlessOutboundOptions = z.output<typeof vlessOutboundSchema>;

/** The VLESS request and UDP framings over one server connection. */
export function vlessOutboundProtocol(o: VlessOutboundOptions): ProxyProtocol {
  const uuid = parseUuid(o.uuid, "uuid");
  const packetAddr = o.packet_encoding === "packetaddr";
  // sing-box: an absent packet_encoding means xudp for VLESS ("" turns it off).
  const xudp = (o.packet_encoding ?? "xudp") === "xudp";
  return {
    stream: (conn: Stream, destination: Socksaddr) => vlessClient(conn, uuid, destination),
    packet(conn: Stream, destination: Socksaddr): PacketConn {
      if (xudp) {
        const mux = vlessClient(conn, uuid, MUX_COOL_DESTINATION, VLESS_CMD_MUX);
        return new StreamPacketConn(mux, xudpClientFraming(destination));
      }
      let seenResponse = false;
      return new StreamPacketConn(
        conn,
        {
          encode: (payload, addr) =>
            encodeU16Prefixed(EMPTY, packetAddr ? encodePacketAddr(addr, payload) : payload),
          decode: (q) => {
            if (!seenResponse) {
              if (q.length < 2) return null;
              const h = q.peek(2);
              if (h[0] !== 0) throw new ProtocolError("vless", 0, "bad response version");
              if (q.length < 2 + h[1]) return null;
              q.consume(2 + h[1]);
              seenResponse = true;
            }
            const p = readU16Prefixed(q.peek(), 0);
            if (!p) return null;
            const data = p.data.slice();
            q.consume(p.end);
            if (!packetAddr) return { data, addr: destination };
            const d = decodePacketAddr(data);
            return { data: d.data, addr: d.addr };
          },
        },
        encodeVlessRequest({
          uuid,
          command: VLESS_CMD_UDP,
          destination: packetAddr ? PACKET_ADDR_DESTINATION : destination,
        }),
      );
    },
  };
}

/** Registers the `vless` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "vless",
    schema: vlessOutboundSchema,
    create: (ctx: OutboundContext, o: VlessOutboundOptions) =>
      new ProxyOutbound("vless", ctx, o, vlessOutboundProtocol(o)),
  });
}
