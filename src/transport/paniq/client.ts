/**
 * The paniq client (paniq.md §6.3): one pooled QUIC connection over a {@linkcode ClientTunnel},
 * dialed lazily, shared by every session, redialed on a new UDP port when it dies. Each session
 * is one bidirectional stream carrying the proxy request and reply.
 *
 * Deliberate divergences from Go (wire format unchanged, §6.3/§6.4 quirks fixed):
 * - a failure status in the proxy reply fails only that session; the shared connection stays
 *   up and the request is not retried (Go tears the connection down and dials the upstream twice);
 * - only a stream-level failure (open error, reply timeout, reset) resets the connection, then
 *   the request is retried once on a fresh one;
 * - concurrent sessions share one in-flight dial instead of queueing on a mutex, and the dial is
 *   bounded by `handshake_attempts × handshake_timeout` plus one QUIC handshake timeout;
 * - the relay propagates half-close (QUIC FIN ↔ TCP FIN).
 *
 * @module
 */
import type { Socksaddr, Stream } from "../../adapter/types.ts";
import { HandshakeReader, HandshakeTimeoutError, withDeadline } from "../../common/handshake_reader.ts";
import { withPrefix } from "../../common/prefixed_stream.ts";
import type { Logger } from "../../common/log.ts";
import { ALPN } from "../../protocol/paniq/constants.ts";
import type { PaniqMetrics } from "../../protocol/paniq/metrics.ts";
import type { ResolvedClient } from "../../protocol/paniq/profile.ts";
import { decodeProxyReply, encodeProxyRequest, STATUS_OK } from "../../protocol/paniq/proxy_codec.ts";
import { ClientTunnel } from "./client_tunnel.ts";
import { RemoteClientTunnel, ShimHost } from "./shim_host.ts";
import { quicTransportOptions } from "./quic_options.ts";
import { QuicStream } from "./quic_stream.ts";

/** The proxy answered with a failure status: the upstream could not be reached. */
export class ProxyRefusedError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`paniq proxy refused the connection: status ${status}`);
    this.name = "ProxyRefusedError";
    this.status = status;
  }
}

/** Options of {@linkcode PaniqClient}. */
export interface ClientOptions {
  metrics: PaniqMetrics;
  log: Logger;
  /**
   * SHA-256 hashes of acceptable server certificates. Without them the process must run with
   * `--unsafely-ignore-certificate-errors=127.0.0.1` (the QUIC peer is always the loopback shim),
   * because the Go server presents a fresh self-signed certificate on every start.
   */
  serverCertificateHashes?: Uint8Array[];
}

interface Session {
  tunnel: ClientTunnel | RemoteClientTunnel;
  conn: Deno.QuicConn;
  dead: boolean;
}

/** A pooled client. */
export class PaniqClient {
  readonly cfg: ResolvedClient;
  readonly #opts: ClientOptions;
  #session: Session | null = null;
  #dialing: Promise<Session> | null = null;
  #closed = false;
  /** The shim thread the tunnels run on (null: they run on this thread). */
  readonly #host: ShimHost | null;

  constructor(cfg: ResolvedClient, opts: ClientOptions) {
    this.cfg = cfg;
    this.#opts = opts;
    // Started now so the first dial does not wait for the Worker to load.
    this.#host = ShimHost.enabled() ? ShimHost.acquire() : null;
  }

  /** True while a live connection is pooled. */
  get connected(): boolean {
    return this.#session !== null && !this.#session.dead;
  }

  async #dial(): Promise<Session> {
    const m = this.#opts.metrics;
    const tunnel = this.#host
      ? await RemoteClientTunnel.dial(this.#host, this.cfg, m.envelope)
      : await ClientTunnel.dial(this.cfg, m.envelope);
    try {
      const hashes = this.#opts.serverCertificateHashes;
      const conn = await withTimeout(
        Deno.connectQuic({
          hostname: "127.0.0.1",
          port: tunnel.localPort,
          alpnProtocols: [ALPN],
          ...quicTransportOptions(this.cfg),
          ...(hashes
            ? { serverCertificateHashes: hashes.map((value) => ({ algorithm: "sha-256", value })) }
            : {}),
        } as Deno.ConnectQuicOptions<false>),
        this.cfg.handshakeTimeoutMs,
        "QUIC handshake",
      );
      m.quic_dials++;
      const s: Session = { tunnel, conn, dead: false };
      conn.closed.catch(() => {}).finally(() => {
        s.dead = true;
        tunnel.close();
        if (this.#session === s) this.#session = null;
      });
      tunnel.done.then(() => this.#reset(s));
      this.#opts.log.debug(`paniq connected to ${this.cfg.proxyAddr} via 127.0.0.1:${tunnel.localPort}`);
      return s;
    } catch (e) {
      tunnel.close();
      if (e instanceof Error && /UnknownIssuer|invalid peer certificate/.test(e.message)) {
        throw new Error(
          "paniq: the server certificate is self-signed; run with --unsafely-ignore-certificate-errors=127.0.0.1",
          { cause: e },
        );
      }
      throw e;
    }
  }

  async #get(): Promise<Session> {
    if (this.#closed) throw new Error("paniq client closed");
    if (this.#session && !this.#session.dead) return this.#session;
    this.#dialing ??= this.#dial().then((s) => {
      this.#session = s;
      return s;
    }).finally(() => {
      this.#dialing = null;
    });
    return await this.#dialing;
  }

  #reset(s: Session): void {
    if (s.dead) return;
    s.dead = true;
    if (this.#session === s) this.#session = null;
    try {
      s.conn.close({ closeCode: 0, reason: "reset" });
    } catch { /* closed */ }
    s.tunnel.close();
  }

  async #attempt(s: Session, dest: Socksaddr): Promise<Stream> {
    const bidi = await s.conn.createBidirectionalStream({ waitUntilAvailable: true });
    const stream = new QuicStream(bidi);
    try {
      return await withDeadline(stream, this.cfg.handshakeTimeoutMs, async () => {
        await stream.write(encodeProxyRequest(dest));
        const reader = new HandshakeReader(stream, 300);
        const reply = await reader.read(decodeProxyReply, "paniq-proxy");
        if (reply.status !== STATUS_OK) throw new ProxyRefusedError(reply.status);
        return withPrefix(stream, reader.rest());
      });
    } catch (e) {
      stream.close();
      throw e;
    }
  }

  /**
   * Opens a proxied stream to `dest`.
   *
   * @throws {ProxyRefusedError} If the server could not reach `dest`
   * @throws {Error} If no connection could be made (handshake, QUIC, timeouts)
   */
  async open(dest: Socksaddr): Promise<Stream> {
    const m = this.#opts.metrics;
    for (let round = 0;; round++) {
      const s = await this.#get();
      try {
        return await this.#attempt(s, dest);
      } catch (e) {
        if (e instanceof ProxyRefusedError || round > 0 || this.#closed) throw e;
        if (e instanceof HandshakeTimeoutError) m.hs_timeouts++;
        this.#opts.log.debug(`paniq stream failed (${e}); reconnecting`);
        this.#reset(s);
      }
    }
  }

  /** Closes the pooled connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#session) this.#reset(this.#session);
    this.#host?.release();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
