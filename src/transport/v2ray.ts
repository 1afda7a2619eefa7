/**
 * The `transport{}` object of vmess/vless/trojan (sing-box `option/v2ray_transport.go`) and the
 * layer stack every proxy outbound and inbound in this family uses:
 * TCP → optional TLS → optional V2Ray transport → protocol.
 *
 * Implemented: `ws` (with early data), `httpupgrade`, `http` (HTTP/2 over TLS, plain HTTP/1.1
 * without TLS, as sing-box) and `grpc` (sing-box's "lite" gun over HTTP/2; h2c without TLS),
 * both with `idle_timeout`/`ping_timeout` (HTTP/2 PING and server idle close; grpc also
 * `permit_without_stream`).
 * Parsed but refused at start with a clear error: `quic`.
 *
 * @module
 */
import { z } from "zod";
import type { Dialer, DialOptions, Socksaddr, Stream } from "../adapter/types.ts";
import { duration, listable } from "../config/common.ts";
import { ConfigError } from "../common/errors.ts";
import type { HandshakeReader } from "../common/handshake_reader.ts";
import type { Logger } from "../common/log.ts";
import { withPrefix } from "../common/prefixed_stream.ts";
import { grpcAccept, grpcConnect } from "./grpc/grpc.ts";
import { httpUpgradeAccept, httpUpgradeConnect } from "./httpupgrade/httpupgrade.ts";
import { H2Client, type H2Request, serveH2 } from "./v2rayhttp/h2.ts";
import { type ClientKeepAliveConfig, DEFAULT_PING_TIMEOUT_MS } from "./v2rayhttp/h2_keepalive.ts";
import { http1Accept, http1Connect, type V2rayHttpOptions } from "./v2rayhttp/http1.ts";
import { httpH2Accept, httpH2Connect } from "./v2rayhttp/v2rayhttp.ts";
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
    idle_timeout: duration.optional(),
    ping_timeout: duration.optional(),
  }),
  z.strictObject({
    type: z.literal("grpc"),
    service_name: z.string().optional(),
    idle_timeout: duration.optional(),
    ping_timeout: duration.optional(),
    permit_without_stream: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal("quic") }),
], { error: "expected transport type ws, httpupgrade, http, grpc or quic" });

/** Parsed transport options. */
export type V2rayTransportOptions = z.output<typeof v2rayTransportSchema>;

/**
 * Refuses transports this build does not implement.
 *
 * @throws {ConfigError} For `quic`.
 */
export function checkTransport(t: V2rayTransportOptions | undefined, path = "transport"): void {
  if (t && t.type === "quic") {
    throw new ConfigError(`${path}.type`, `transport "${t.type}" is not supported by this build`);
  }
}

/** The `http` transport options in the codec's shape. */
function httpOptions(t: Extract<V2rayTransportOptions, { type: "http" }>): V2rayHttpOptions {
  return {
    host: t.host === undefined ? undefined : Array.isArray(t.host) ? t.host : [t.host],
    path: t.path,
    method: t.method,
    headers: t.headers,
  };
}

/**
 * ALPN list a TLS server needs for `t`: `http` adds `h2` and `http/1.1` when unset, `grpc` puts
 * `h2` first (sing-box `Serve`).
 */
export function serverAlpn(
  t: V2rayTransportOptions | undefined,
  alpn: string[] | undefined,
): string[] | undefined {
  if (t?.type === "http") {
    return alpn?.length ? (alpn.includes("h2") ? alpn : ["h2", ...alpn]) : ["h2", "http/1.1"];
  }
  if (t?.type === "grpc") return alpn?.includes("h2") ? alpn : ["h2", ...(alpn ?? [])];
  return alpn;
}

/**
 * Client PING settings of an `http`/`grpc` transport, or `undefined` without `idle_timeout`.
 * `http` pings whatever the streams (Go `http2.Transport`); `grpc` only with open streams
 * unless `permit_without_stream` (grpc-go keepalive). `ping_timeout` defaults to 15 s.
 */
export function clientKeepAlive(t: V2rayTransportOptions): ClientKeepAliveConfig | undefined {
  if ((t.type !== "http" && t.type !== "grpc") || !t.idle_timeout) return undefined;
  return {
    idleMs: t.idle_timeout,
    pingTimeoutMs: t.ping_timeout || DEFAULT_PING_TIMEOUT_MS,
    permitWithoutStream: t.type === "http" || (t.permit_without_stream ?? false),
  };
}

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Whether `buf` starts with the HTTP/2 preface (`null` while too short to tell). */
export function isH2Preface(buf: Uint8Array): boolean | null {
  const n = Math.min(buf.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== H2_PREFACE[i]) return false;
  return n === H2_PREFACE.length ? true : null;
}

/** An accepted transport connection: serves one tunnel stream, or (HTTP/2) one per request. */
export interface TransportSession {
  /**
   * Calls `onStream` for each tunnel stream; resolves when the connection is done.
   * `onError` receives rejected requests (bad path, method, …).
   */
  serve(onStream: (s: Stream) => Promise<void>, onError: (e: string) => void): Promise<void>;
}

/**
 * Accepts the server transport layer. For `http` and `grpc` the connection may carry HTTP/2
 * (preface sniffed, h2c allowed without TLS) and then many streams; otherwise one stream.
 *
 * @throws {ProtocolError} If the handshake fails (the peer already got an HTTP error where one applies).
 */
export async function acceptTransport(
  inner: Stream,
  reader: HandshakeReader,
  t: V2rayTransportOptions | undefined,
): Promise<TransportSession> {
  if (t?.type === "http" || t?.type === "grpc") {
    let h2 = isH2Preface(reader.buffered);
    while (h2 === null) {
      if (!await reader.fill()) throw new Error("connection closed before the HTTP request");
      h2 = isH2Preface(reader.buffered);
    }
    if (h2) {
      const conn = withPrefix(inner, reader.rest());
      const accept = t.type === "grpc"
        ? (r: H2Request) => grpcAccept(r, t.service_name ?? "")
        : (r: H2Request) => httpH2Accept(r, httpOptions(t));
      return {
        serve: (onStream, onError) =>
          serveH2(conn, (r) => {
            const a = accept(r);
            if ("error" in a) onError(a.error);
            else onStream(a.stream).catch((e) => onError(String(e)));
          }, { idleMs: t.idle_timeout }),
      };
    }
    if (t.type === "grpc") throw new Error("gRPC needs HTTP/2");
    const s = await http1Accept(inner, reader, httpOptions(t));
    return { serve: (onStream) => onStream(s) };
  }
  const s = await serverTransport(inner, reader, t);
  return { serve: (onStream) => onStream(s) };
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
    case "http":
      return http1Connect(inner, httpOptions(t), host);
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
  #h2: H2Client | null = null;

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

  /** Whether this connector multiplexes over one HTTP/2 connection (`grpc`, `http` with TLS). */
  get usesH2(): boolean {
    const t = this.#transport?.type;
    return t === "grpc" || (t === "http" && this.#tlsOptions !== undefined);
  }

  async #tlsConfig(): Promise<TlsClientConfig> {
    const cfg = await (this.#tls ??= tlsClientConfig(this.#tlsOptions!, this.#server.host, this.#logger));
    return this.usesH2 && !cfg.alpn ? { ...cfg, alpn: ["h2"] } : cfg;
  }

  async #raw(options?: DialOptions): Promise<{ conn: Stream; host: string }> {
    if (this.#tlsOptions) {
      const cfg = await this.#tlsConfig();
      return { conn: await dialTls(this.#dialer, this.#server, cfg, options), host: cfg.serverName };
    }
    return { conn: await this.#dialer.dial(this.#server, options), host: this.#server.host };
  }

  async #connectH2(): Promise<Stream> {
    const t = this.#transport!;
    const port = this.#server.port;
    if (!this.#h2) {
      const host = this.#tlsOptions ? (await this.#tlsConfig()).serverName : this.#server.host;
      const authority = `${host.includes(":") ? `[${host}]` : host}:${port}`;
      this.#h2 = new H2Client(
        `${this.#tlsOptions ? "https" : "http"}://${authority}`,
        async () => (await this.#raw()).conn,
        clientKeepAlive(t),
      );
      this.#authority = authority;
    }
    if (t.type === "grpc") {
      return await grpcConnect(
        this.#h2,
        t.service_name ?? "",
        this.#authority,
        this.#tlsOptions ? "https" : "http",
      );
    }
    return await httpH2Connect(this.#h2, httpOptions(t as Extract<V2rayTransportOptions, { type: "http" }>));
  }
  #authority = "";

  /** Closes the shared HTTP/2 connection, if any. */
  close(): void {
    this.#h2?.close();
    this.#h2 = null;
  }

  /** Opens one connection to the server with all layers applied. */
  async connect(options?: DialOptions): Promise<Stream> {
    if (this.usesH2) return await this.#connectH2();
    const { conn, host } = await this.#raw(options);
    try {
      return await clientTransport(conn, this.#transport, host);
    } catch (e) {
      conn.close();
      throw e;
    }
  }
}
