/**
 * The `vless` outbound (spec sing-box.md §1.2) without flow: TLS and V2Ray transports; UDP as
 * command 2 with length-prefixed datagrams to one destination. `packet_encoding` xudp and
 * `flow` are refused until implemented.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { ProtocolError } from "../../common/errors.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { parseUuid } from "../../common/uuid.ts";
import { outboundTlsSchema } from "../../transport/tls/config.ts";
import { ProxyConnector, v2rayTransportSchema } from "../../transport/v2ray.ts";
import { decodePacketAddr, encodePacketAddr, PACKET_ADDR_DESTINATION } from "../vmess/packetaddr.ts";
import { muxClientFor, networks, networkSchema, outboundMultiplexSchema } from "../shared_options.ts";
import { MUX_DESTINATION, type MuxClient } from "../../transport/mux/client.ts";
import { encodeVlessRequest, VLESS_CMD_UDP, vlessClient } from "./protocol.ts";

/** Options of a `vless` outbound. */
export const vlessOutboundSchema = z.strictObject({
  type: z.literal("vless"),
  tag: z.string().optional(),
  ...serverFields,
  uuid: z.string(),
  flow: z.literal("", { error: "flow is not supported by this build" }).optional(),
  network: networkSchema,
  packet_encoding: z.enum(["", "packetaddr", "xudp"]).optional().refine((v) => v !== "xudp", {
    error: "packet_encoding xudp is not supported by this build; use packetaddr or none",
  }),
  tls: outboundTlsSchema.optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: outboundMultiplexSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type VlessOutboundOptions = z.output<typeof vlessOutboundSchema>;

/** A VLESS client. */
export class VlessOutbound implements Outbound {
  readonly type = "vless";
  readonly tag: string;
  readonly network: readonly ("tcp" | "udp")[];
  readonly dependencies: string[];
  #uuid: Uint8Array;
  #connector: ProxyConnector;
  #mux: MuxClient | null;
  #packetAddr: boolean;

  constructor(ctx: OutboundContext, o: VlessOutboundOptions) {
    this.tag = ctx.tag;
    this.#uuid = parseUuid(o.uuid, "uuid");
    this.#packetAddr = o.packet_encoding === "packetaddr";
    this.network = networks(o.network);
    this.dependencies = o.detour ? [o.detour] : [];
    this.#connector = new ProxyConnector(
      ctx.dialer(o),
      { host: o.server, port: o.server_port },
      o.tls,
      o.transport,
      ctx.logger,
    );
    this.#mux = muxClientFor(o.multiplex, () => this.#dialDirect(MUX_DESTINATION));
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    if (this.#mux) return await this.#mux.dial(destination);
    return await this.#dialDirect(destination, options);
  }

  async #dialDirect(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    return vlessClient(await this.#connector.connect(options), this.#uuid, destination);
  }

  /** Closes the shared HTTP/2 connection of the `grpc`/`http` transports. */
  close(): Promise<void> {
    this.#connector.close();
    this.#mux?.close();
    return Promise.resolve();
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    if (this.#mux) return await this.#mux.listenPacket(destination);
    const conn = await this.#connector.connect(options);
    let seenResponse = false;
    const packetAddr = this.#packetAddr;
    return new StreamPacketConn(
      conn,
      {
        encode: (payload, addr) => {
          const data = packetAddr ? encodePacketAddr(addr, payload) : payload;
          const out = new Uint8Array(2 + data.length);
          out[0] = data.length >> 8;
          out[1] = data.length & 0xff;
          out.set(data, 2);
          return out;
        },
        decode: (q) => {
          if (!seenResponse) {
            if (q.length < 2) return null;
            const h = q.peek(2);
            if (h[0] !== 0) throw new ProtocolError("vless", 0, "bad response version");
            if (q.length < 2 + h[1]) return null;
            q.consume(2 + h[1]);
            seenResponse = true;
          }
          if (q.length < 2) return null;
          const h = q.peek(2);
          const n = (h[0] << 8) | h[1];
          if (q.length < 2 + n) return null;
          q.consume(2);
          const data = q.take(n).slice();
          if (!packetAddr) return { data, addr: destination };
          const p = decodePacketAddr(data);
          return { data: p.data, addr: p.addr };
        },
      },
      encodeVlessRequest({
        uuid: this.#uuid,
        command: VLESS_CMD_UDP,
        destination: packetAddr ? PACKET_ADDR_DESTINATION : destination,
      }),
    );
  }
}

/** Registers the `vless` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "vless",
    schema: vlessOutboundSchema,
    create: (ctx: OutboundContext, o: VlessOutboundOptions) => new VlessOutbound(ctx, o),
  });
}
