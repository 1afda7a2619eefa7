/**
 * The `transport{}` object of vmess/vless/trojan (sing-box `option/v2ray_transport.go`) and the
 * layer stack every proxy outbound and inbound in this family uses:
 * TCP → optional TLS → optional V2Ray transport → protocol.
 *
 * Implemented: `ws` (with early data), `httpupgrade`. Parsed but refused at start with a clear
 * error: `http`, `grpc`, `quic`.
 *
 * @module
 */
import { z } from "zod";
import type { Dialer, DialOptions, Socksaddr, Stream } from "../adapter/types.ts";
import { listable } from "../config/common.ts";
import { ConfigError } from "../common/errors.ts";
import type { HandshakeReader } from "../common/handshake_reader.ts";
import type { Logger } from "../common/log.ts";
import { withPrefix } from "../common/prefixed_stream.ts";
import { httpUpgradeAccept, httpUpgradeConnect } from "./httpupgrade/httpupgrade.ts";
import { dialTls, type TlsClientConfig, tlsClientConfig } from "./tls/client.ts";
import type { OutboundTlsOptions } from "./tls/config.ts";
import { wsAccept, wsClient } from "./ws/handshake.ts";

const headers = z.record(z.string(), listable(z.string())).optional();

/** `transport{}`. */
export const v2rayTransportSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("ws"),
    path: z.string().optional(),
    headers,
    max_early_data: z.number().int().min(0).optional(),
    early_data_header_name: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal("httpupgrade"),
    host: z.string().optional(),
    path: z.string().optional(),
    headers,
  }),
  z.strictObject({
    type: z.literal("http"),
    host: listable(z.string()).optional(),
    path: z.string().optional(),
    method: z.string().optional(),
    headers,
    idle_timeout: z.string().optional(),
    ping_timeout: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal("grpc"),
    service_name: z.string().optional(),
    idle_timeout: z.string().optional(),
    ping_timeout: z.string().optional(),
    permit_without_stream: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal("quic") }),
], { error: "expected transport type ws, httpupgrade, http, grpc or quic" });

/** Parsed transport options. */
export type V2rayTransportOptions = z.output<typeof v2rayTransportSchema>;

/**
 * Refuses transports this build does not implement.
 *
 * @throws {ConfigError} For `http`, `grpc` and `quic`.
 */
export function checkTransport(t: V2rayTransportOptions | undefined, path = "transport"): void {
  if (t && (t.type === "http" || t.type === "grpc" || t.type === "quic")) {
    throw new ConfigError(`${path}.type`, `transport "${t.type}" is not supported by this build`);
  }
}

/** Opens the client transport layer over a connected (and possibly TLS) stream. */
export async function clientTransport(
  inner: Stream,
  t: V2rayTransportOptions | undefined,
  host: string,
): Promise<Stream> {
  if (!t) return inner;
  switch (t.type) {
    case "ws":
      return await wsClient(inner, {
        host,
        path: t.path ?? "/",
        headers: t.headers,
        maxEarlyData: t.max_early_data,
        earlyDataHeaderName: t.early_data_header_name,
      });
    case "httpupgrade":
      return await httpUpgradeConnect(inner, {
        host: t.host ?? host,
        path: t.path ?? "/",
        headers: t.headers,
      });
    default:
      throw new Error(`transport "${t.type}" is not supported by this build`);
  }
}

/** Accepts the server transport layer; `reader` buffers the connection's first bytes. */
export async function serverTransport(
  inner: Stream,
  reader: HandshakeReader,
  t: V2rayTransportOptions | undefined,
): Promise<Stream> {
  if (!t) return withPrefix(inner, reader.rest());
  switch (t.type) {
    case "ws":
      return await wsAccept(inner, reader, {
        path: t.path ?? "/",
        maxEarlyData: t.max_early_data,
        earlyDataHeaderName: t.early_data_header_name,
      });
    case "httpupgrade":
      return await httpUpgradeAccept(inner, reader, { path: t.path ?? "/", host: t.host });
    default:
      throw new Error(`transport "${t.type}" is not supported by this build`);
  }
}

/** Dials server → TLS → transport for a proxy outbound. */
export class ProxyConnector {
  #dialer: Dialer;
  #server: Socksaddr;
  #tlsOptions: OutboundTlsOptions | undefined;
  #tls: Promise<TlsClientConfig> | null = null;
  #transport: V2rayTransportOptions | undefined;
  #logger?: Logger;

  constructor(
    dialer: Dialer,
    server: Socksaddr,
    tls: OutboundTlsOptions | undefined,
    transport: V2rayTransportOptions | undefined,
    logger?: Logger,
  ) {
    checkTransport(transport);
    this.#dialer = dialer;
    this.#server = server;
    this.#tlsOptions = tls?.enabled ? tls : undefined;
    this.#transport = transport;
    this.#logger = logger;
  }

  /** Opens one connection to the server with all layers applied. */
  async connect(options?: DialOptions): Promise<Stream> {
    let conn: Stream;
    let host = this.#server.host;
    if (this.#tlsOptions) {
      const cfg = await (this.#tls ??= tlsClientConfig(this.#tlsOptions, this.#server.host, this.#logger));
      host = cfg.serverName;
      conn = await dialTls(this.#dialer, this.#server, cfg, options);
    } else {
      conn = await this.#dialer.dial(this.#server, options);
    }
    try {
      return await clientTransport(conn, this.#transport, host);
    } catch (e) {
      conn.close();
      throw e;
    }
  }
}
