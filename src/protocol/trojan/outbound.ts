/**
 * The `trojan` outbound (spec sing-box.md §1.2): TLS (normally on) and V2Ray transports; UDP
 * as command 3 with address-carrying packets inside the stream.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { outboundTlsSchema } from "../../transport/tls/config.ts";
import { ProxyConnector, v2rayTransportSchema } from "../../transport/v2ray.ts";
import { muxClientFor, networks, networkSchema, outboundMultiplexSchema } from "../shared_options.ts";
import { MUX_DESTINATION, type MuxClient } from "../../transport/mux/client.ts";
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
  ...serverFields,
  password: z.string(),
  network: networkSchema,
  tls: outboundTlsSchema.optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: outboundMultiplexSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type TrojanOutboundOptions = z.output<typeof trojanOutboundSchema>;

/** A Trojan client. */
export class TrojanOutbound implements Outbound {
  readonly type = "trojan";
  readonly tag: string;
  readonly network: readonly ("tcp" | "udp")[];
  readonly dependencies: string[];
  #key: Uint8Array;
  #connector: ProxyConnector;
  #mux: MuxClient | null;

  constructor(ctx: OutboundContext, o: TrojanOutboundOptions) {
    this.tag = ctx.tag;
    this.#key = trojanKey(o.password);
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
    const header = encodeTrojanRequest(this.#key, TROJAN_CMD_CONNECT, destination);
    // Raw stream after the header: the header rides with the first write (or goes out on read).
    return new CodecStream(conn, { encode: (p) => p }, {
      decode: (q) => (q.length ? q.take(q.length) : null),
    }, { rawPrefix: header });
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
    return new StreamPacketConn(conn, {
      encode: (data, addr) => encodeTrojanPacket(addr, data),
      decode: decodeTrojanPacket,
    }, encodeTrojanRequest(this.#key, TROJAN_CMD_UDP, destination));
  }
}

/** Registers the `trojan` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "trojan",
    schema: trojanOutboundSchema,
    create: (ctx: OutboundContext, o: TrojanOutboundOptions) => new TrojanOutbound(ctx, o),
  });
}
