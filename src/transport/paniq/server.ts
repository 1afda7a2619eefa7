/**
 * The paniq server (paniq.md §7): envelope shim on the public UDP address, Deno QUIC on
 * loopback behind it with a fresh self-signed certificate, and one proxy request per
 * client-opened bidirectional stream. What happens to a request is the caller's `handler`:
 * the standalone `paniq proxy` dials upstream, the router inbound routes it.
 *
 * @module
 */
import type { Socksaddr, Stream } from "../../adapter/types.ts";
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import { withPrefix } from "../../common/prefixed_stream.ts";
import type { Logger } from "../../common/log.ts";
import { ALPN } from "../../protocol/paniq/constants.ts";
import type { PaniqMetrics } from "../../protocol/paniq/metrics.ts";
import type { ResolvedServer } from "../../protocol/paniq/profile.ts";
import {
  decodeProxyRequest,
  encodeProxyReply,
  STATUS_FAILURE,
  STATUS_OK,
} from "../../protocol/paniq/proxy_codec.ts";
import { generateServerCertificate } from "./cert.ts";
import { quicTransportOptions } from "./quic_options.ts";
import { QuicStream } from "./quic_stream.ts";
import { ServerTunnel } from "./server_tunnel.ts";
import { openShimSocket, type ShimSocket } from "./udp.ts";
import { RemoteServerTunnel, ShimHost } from "./shim_host.ts";

/** A parsed proxy request on its stream. The handler must call exactly one of `accept`/`reject`. */
export interface ProxyRequest {
  destination: Socksaddr;
  /** The remote peer (`ip:port`) of the tunnel. */
  source: Socksaddr;
  /** The stream after the request (bytes read past it included); write only after `accept`. */
  stream: Stream;
  /** Writes the success reply with the upstream socket's local address and returns the stream. */
  accept(bind?: Socksaddr): Promise<Stream>;
  /** Writes the failure reply and closes the stream. */
  reject(): Promise<void>;
}

/** Handles one request; should resolve when the session is over. */
export type ProxyHandler = (req: ProxyRequest) => Promise<void>;

/** Options of {@linkcode PaniqServer.listen}. */
export interface ServerOptions {
  hostname: string;
  port: number;
  handler: ProxyHandler;
  metrics: PaniqMetrics;
  log: Logger;
}

/** A running server. */
export class PaniqServer {
  readonly tunnel: ServerTunnel | RemoteServerTunnel;
  readonly #host: ShimHost | null;
  /** SHA-256 of this run's certificate (for clients that pin it). */
  readonly certificateHash: Uint8Array;
  readonly #endpoint: Deno.QuicEndpoint;
  readonly #listener: Deno.QuicListener;
  readonly #conns = new Set<Deno.QuicConn>();
  readonly #opts: ServerOptions;
  readonly #cfg: ResolvedServer;
  #closed = false;

  private constructor(
    cfg: ResolvedServer,
    opts: ServerOptions,
    endpoint: Deno.QuicEndpoint,
    listener: Deno.QuicListener,
    tunnel: ServerTunnel | RemoteServerTunnel,
    certificateHash: Uint8Array,
    host: ShimHost | null,
  ) {
    this.#host = host;
    this.certificateHash = certificateHash;
    this.#cfg = cfg;
    this.#opts = opts;
    this.#endpoint = endpoint;
    this.#listener = listener;
    this.tunnel = tunnel;
    this.#acceptLoop().catch((e) => opts.log.error(`accept loop ended: ${e}`));
  }

  /** Starts the server. Throws if the UDP address is in use. */
  static async listen(cfg: ResolvedServer, opts: ServerOptions): Promise<PaniqServer> {
    const { certPem, keyPem, der } = await generateServerCertificate();
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>));
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
    const listener = endpoint.listen({
      alpnProtocols: [ALPN],
      cert: certPem,
      key: keyPem,
      ...quicTransportOptions(cfg),
    });
    const quicAddr = endpoint.addr as Deno.NetAddr;
    if (ShimHost.enabled()) {
      const host = ShimHost.acquire();
      try {
        const tunnel = await RemoteServerTunnel.listen(
          host,
          cfg,
          opts.metrics.envelope,
          opts.hostname,
          opts.port,
          quicAddr,
          opts.log,
        );
        return new PaniqServer(cfg, opts, endpoint, listener, tunnel, hash, host);
      } catch (e) {
        host.release();
        endpoint.close();
        throw e;
      }
    }
    let sock: ShimSocket;
    try {
      sock = openShimSocket(opts.hostname, opts.port, { batch: 64 });
    } catch (e) {
      endpoint.close();
      throw e;
    }
    const tunnel = new ServerTunnel(
      sock,
      { hostname: opts.hostname, port: opts.port },
      cfg,
      opts.metrics.envelope,
      quicAddr,
      opts.log,
    );
    return new PaniqServer(cfg, opts, endpoint, listener, tunnel, hash, null);
  }

  /** The public UDP address. */
  get addr(): Deno.NetAddr {
    return this.tunnel.addr;
  }

  async #acceptLoop(): Promise<void> {
    for await (const incoming of this.#listener) {
      // Never read QuicIncoming getters: they consume the attempt (quic-http3.md bug 1).
      (async () => {
        let conn: Deno.QuicConn;
        try {
          conn = await incoming.accept({ zeroRtt: false });
        } catch {
          return;
        }
        this.#opts.metrics.quic_dials++;
        this.#serveConn(conn).catch(() => {});
      })();
    }
  }

  async #serveConn(conn: Deno.QuicConn): Promise<void> {
    this.#conns.add(conn);
    const shimPort = (conn.remoteAddr as Deno.NetAddr).port;
    const peer = this.tunnel.peerForQuicPort(shimPort) ?? "0.0.0.0:0";
    const sep = peer.lastIndexOf(":");
    const source = { host: peer.slice(0, sep), port: Number(peer.slice(sep + 1)) };
    conn.closed.catch(() => {}).finally(() => {
      this.#conns.delete(conn);
      this.tunnel.closePeerByQuicPort(shimPort);
    });
    try {
      for await (const bidi of conn.incomingBidirectionalStreams) {
        this.#serveStream(bidi, source).catch((e) => this.#opts.log.debug(`stream: ${e}`));
      }
    } catch { /* connection closed */ }
  }

  async #serveStream(bidi: Deno.QuicBidirectionalStream, source: Socksaddr): Promise<void> {
    const m = this.#opts.metrics;
    const started = performance.now();
    m.reconnects++; // Go counts accepted streams under this name (§9)
    m.active++;
    const raw = new QuicStream(bidi);
    try {
      const reader = new HandshakeReader(raw, 300);
      let destination: Socksaddr;
      try {
        destination = await withDeadline(
          raw,
          this.#cfg.handshakeTimeoutMs,
          () => reader.read(decodeProxyRequest, "paniq-proxy"),
        );
      } catch {
        m.hs_fail++;
        raw.close(); // a malformed request gets no reply (§3.6)
        return;
      }
      const stream = withPrefix(raw, reader.rest());
      let answered = false;
      await this.#opts.handler({
        destination,
        source,
        stream,
        accept: async (bind = { host: "0.0.0.0", port: 0 }) => {
          answered = true;
          await raw.write(encodeProxyReply(STATUS_OK, bind));
          m.hs_ok++;
          m.latency.add(performance.now() - started);
          return stream;
        },
        reject: async () => {
          answered = true;
          m.hs_fail++;
          try {
            await raw.write(encodeProxyReply(STATUS_FAILURE));
            await raw.closeWrite();
          } catch { /* peer gone */ }
          raw.close();
        },
      });
      if (!answered) raw.close();
    } finally {
      m.active--;
    }
  }

  /** Stops listening and closes every connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#conns) {
      try {
        c.close({ closeCode: 0, reason: "" });
      } catch { /* closed */ }
    }
    try {
      this.#listener.stop();
    } catch { /* stopped */ }
    this.tunnel.close();
    this.#host?.release();
    try {
      this.#endpoint.close();
    } catch { /* closed */ }
  }
}
