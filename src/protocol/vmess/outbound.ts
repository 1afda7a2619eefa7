/**
 * The `vmess` outbound (spec sing-box.md §1.2): AEAD header (alter_id 0), security
 * auto/aes-128-gcm/chacha20-poly1305/none/zero, global padding, TLS and V2Ray transports.
 * UDP uses command 2 (one chunk per datagram, one destination per connection), or with
 * `packet_encoding: packetaddr` one session to `sp.packet-addr.v2fly.arpa` whose datagrams
 * carry their addresses; `xudp` is refused. `authenticated_length` seals chunk sizes.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { parseUuid } from "../../common/uuid.ts";
import { outboundTlsSchema } from "../../transport/tls/config.ts";
import { ProxyConnector, v2rayTransportSchema } from "../../transport/v2ray.ts";
import { muxClientFor, networks, networkSchema, outboundMultiplexSchema } from "../shared_options.ts";
import { MUX_DESTINATION, type MuxClient } from "../../transport/mux/client.ts";
import { CMD_UDP, type VmessUser, vmessUser } from "./header.ts";
import { decodePacketAddr, encodePacketAddr, PACKET_ADDR_DESTINATION } from "./packetaddr.ts";
import { vmessClient, vmessClientParts } from "./protocol.ts";

/** Options of a `vmess` outbound. */
export const vmessOutboundSchema = z.strictObject({
  type: z.literal("vmess"),
  tag: z.string().optional(),
  ...serverFields,
  uuid: z.string(),
  security: z.enum(["auto", "none", "zero", "aes-128-gcm", "chacha20-poly1305"], {
    error: "expected security auto, none, zero, aes-128-gcm or chacha20-poly1305",
  }).optional(),
  alter_id: z.literal(0, { error: "only alter_id 0 (AEAD) is supported" }).optional(),
  global_padding: z.boolean().optional(),
  authenticated_length: z.boolean().optional(),
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
export type VmessOutboundOptions = z.output<typeof vmessOutboundSchema>;

/** A VMess client. */
export class VmessOutbound implements Outbound {
  readonly type = "vmess";
  readonly tag: string;
  readonly network: readonly ("tcp" | "udp")[];
  readonly dependencies: string[];
  #user: VmessUser;
  #o: VmessOutboundOptions;
  #connector: ProxyConnector;
  #mux: MuxClient | null;

  constructor(ctx: OutboundContext, o: VmessOutboundOptions) {
    this.tag = ctx.tag;
    this.#o = o;
    this.#user = vmessUser(parseUuid(o.uuid, "uuid"));
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
    const conn = await this.#connector.connect(options);
    return vmessClient(conn, this.#user, destination, {
      security: this.#o.security,
      globalPadding: this.#o.global_padding,
      authenticatedLength: this.#o.authenticated_length,
    });
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
    const packetAddr = this.#o.packet_encoding === "packetaddr";
    const { prefix, encoder, decoder } = vmessClientParts(
      this.#user,
      packetAddr ? PACKET_ADDR_DESTINATION : destination,
      {
        security: this.#o.security,
        globalPadding: this.#o.global_padding,
        authenticatedLength: this.#o.authenticated_length,
        command: CMD_UDP,
        packetMode: true,
      },
    );
    return new StreamPacketConn(conn, {
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
    }, prefix);
  }
}

/** Registers the `vmess` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "vmess",
    schema: vmessOutboundSchema,
    create: (ctx: OutboundContext, o: VmessOutboundOptions) => new VmessOutbound(ctx, o),
  });
}
