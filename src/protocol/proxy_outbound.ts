/**
 * Shared plumbing of the proxy outbounds (shadowsocks, trojan, vmess, vless): the dial fields'
 * dialer, server → TLS → V2Ray transport ({@linkcode ProxyConnector}), sing-mux multiplexing
 * (spec sing-box.md §2.2) and the `network`/`detour` bookkeeping. A protocol only says how its
 * handshake wraps one connected stream, for TCP and for UDP carried in the stream.
 *
 * @module
 */
import type { OutboundContext } from "../adapter/registry.ts";
import type {
  Dialer,
  DialOptions,
  Network,
  Outbound,
  PacketConn,
  Socksaddr,
  Stream,
} from "../adapter/types.ts";
import { dialFields, type DialFieldsOptions, serverFields } from "../config/common.ts";
import { MUX_DESTINATION, type MuxClient } from "../transport/mux/client.ts";
import { type OutboundTlsOptions, outboundTlsSchema } from "../transport/tls/config.ts";
import { ProxyConnector, type V2rayTransportOptions, v2rayTransportSchema } from "../transport/v2ray.ts";
import {
  muxClientFor,
  networks,
  networkSchema,
  type OutboundMultiplexOptions,
  outboundMultiplexSchema,
} from "./shared_options.ts";

/**
 * Schema fields every TLS/transport-capable proxy outbound has (vmess, vless, trojan):
 * `server`, `server_port`, `network`, `tls`, `transport`, `multiplex` and the dial fields.
 */
export const proxyOutboundFields = {
  ...serverFields,
  network: networkSchema,
  tls: outboundTlsSchema.optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: outboundMultiplexSchema.optional(),
  ...dialFields,
};

/** The options {@linkcode ProxyOutbound} reads. */
export interface ProxyOutboundOptions extends DialFieldsOptions {
  server: string;
  server_port: number;
  network?: Network;
  tls?: OutboundTlsOptions;
  transport?: V2rayTransportOptions;
  multiplex?: OutboundMultiplexOptions;
}

/** How a protocol runs over one connection the builder opened (TLS and transport applied). */
export interface ProxyProtocol {
  /** A TCP tunnel to `destination` over `conn`; the request goes out with the first write or read. */
  stream(conn: Stream, destination: Socksaddr): Stream;
  /** UDP carried in `conn`; `destination` is the first peer. Absent when UDP goes elsewhere. */
  packet?(conn: Stream, destination: Socksaddr): PacketConn;
}

/** Overrides for protocols whose layers are not the `tls`/`transport` fields (SIP003 plugins). */
export interface ProxyLayers {
  tls?: OutboundTlsOptions;
  transport?: V2rayTransportOptions;
  /** Networks served; defaults to the `network` field. */
  network?: Network[];
  /** Turns multiplexing off even if `multiplex.enabled` (sing-box: UDP over TCP wins). */
  noMultiplex?: boolean;
}

/**
 * A proxy outbound: dials the server through all layers, then lets `protocol` wrap the stream.
 * With `multiplex.enabled`, every TCP and UDP connection is a stream of a sing-mux session
 * opened to {@linkcode MUX_DESTINATION} through the same protocol.
 */
export class ProxyOutbound implements Outbound {
  readonly type: string;
  readonly tag: string;
  readonly network: readonly Network[];
  readonly dependencies: string[];
  /** The dial fields' dialer (system, or the `detour` outbound). */
  protected readonly dialer: Dialer;
  /** Opens server connections with TLS and transport applied. */
  protected readonly connector: ProxyConnector;
  #protocol: ProxyProtocol;
  #mux: MuxClient | null;

  constructor(
    type: string,
    ctx: OutboundContext,
    o: ProxyOutboundOptions,
    protocol: ProxyProtocol,
    layers: ProxyLayers = { tls: o.tls, transport: o.transport },
  ) {
    this.type = type;
    this.tag = ctx.tag;
    this.network = layers.network ?? networks(o.network);
    this.dependencies = o.detour ? [o.detour] : [];
    this.#protocol = protocol;
    this.dialer = ctx.dialer(o);
    this.connector = new ProxyConnector(
      this.dialer,
      { host: o.server, port: o.server_port },
      layers.tls,
      layers.transport,
      ctx.logger,
    );
    this.#mux = layers.noMultiplex ? null : muxClientFor(o.multiplex, () => this.dialDirect(MUX_DESTINATION));
  }

  /** Whether connections go through sing-mux sessions. */
  protected get multiplexed(): boolean {
    return this.#mux !== null;
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    if (this.#mux) return await this.#mux.dial(destination);
    return await this.dialDirect(destination, options);
  }

  /** A TCP tunnel on its own server connection, bypassing multiplexing. */
  protected async dialDirect(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    return this.#protocol.stream(await this.connector.connect(options), destination);
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    if (this.#mux) return await this.#mux.listenPacket(destination);
    if (!this.#protocol.packet) throw new Error(`${this.type} outbound carries no UDP in its connections`);
    return this.#protocol.packet(await this.connector.connect(options), destination);
  }

  /** Closes the multiplexed sessions and the shared HTTP/2 connection of `grpc`/`http`. */
  close(): Promise<void> {
    this.connector.close();
    this.#mux?.close();
    return Promise.resolve();
  }
}
