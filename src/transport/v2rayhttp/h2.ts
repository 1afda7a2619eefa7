/**
 * The HTTP/2 layer of the V2Ray `http` and `grpc` transports on `node:http2` (over any dialed or
 * TLS stream through `StreamDuplex`): a client that keeps one HTTP/2 connection per outbound
 * and opens one request stream per proxied connection, and a per-connection server that hands
 * each request stream to a callback.
 *
 * @module
 */
import http2 from "node:http2";
import type { Stream } from "../../adapter/types.ts";
import { NodeDuplexStream, StreamDuplex } from "../../common/node_stream.ts";
import { type ClientKeepAliveConfig, H2KeepAlive } from "./h2_keepalive.ts";

/** HTTP/2 stream and connection receive windows, bytes (larger than the 64 KiB default for throughput). */
export const H2_WINDOW = 4 << 20;

/** A {@linkcode Stream} over one HTTP/2 request or response stream; closing cancels the stream. */
export class H2Stream extends NodeDuplexStream {
  /** Resolves when the HTTP/2 stream is closed (both ways, or reset). */
  readonly closed: Promise<void>;

  /** `ready` settles when the peer's headers are acceptable (client: the response status). */
  constructor(h: http2.Http2Stream, ready: Promise<void> = Promise.resolve()) {
    super(h, { ready, close: () => h.close(http2.constants.NGHTTP2_CANCEL) });
    this.closed = new Promise((resolve) => h.once("close", () => resolve()));
  }
}

/** Request headers for {@linkcode H2Client.open}. */
export type H2Headers = Record<string, string | string[]>;

/**
 * Starts an HTTP/2 client session over `conn` (TLS with ALPN h2, or plain with prior knowledge)
 * with {@linkcode H2_WINDOW} windows and push disabled; `authority` is `scheme://host:port`.
 *
 * @throws {Error} If the connection fails or closes during setup.
 */
export async function connectH2(
  conn: Stream,
  authority: string,
  keepAlive?: ClientKeepAliveConfig,
): Promise<http2.ClientHttp2Session> {
  const duplex = new StreamDuplex(conn);
  const session = http2.connect(authority, {
    createConnection: () => duplex as never,
    settings: { initialWindowSize: H2_WINDOW, enablePush: false },
  });
  session.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
    session.once("close", () => reject(new Error("HTTP/2 connection closed during setup")));
  });
  try {
    session.setLocalWindowSize(H2_WINDOW);
  } catch { /* not supported */ }
  if (keepAlive?.idleMs) {
    keepAlives.set(session, new H2KeepAlive(session, { client: keepAlive, lastRead: () => duplex.lastRead }));
  }
  return session;
}

/** Liveness drivers of sessions started with a keep-alive config or server idle timeout. */
const keepAlives = new WeakMap<http2.Http2Session, H2KeepAlive>();

/** Counts a stream on its session's keep-alive driver until the stream closes. */
function trackStream(session: http2.Http2Session, h: http2.Http2Stream): void {
  const ka = keepAlives.get(session);
  if (!ka) return;
  ka.onStreamOpened();
  h.once("close", () => ka.onStreamClosed());
}

/**
 * Opens a request stream on `session`. Writes go out at once; reads wait for the response
 * headers and fail unless `accept(status, headers)` is true.
 */
export function openH2Stream(
  session: http2.ClientHttp2Session,
  headers: H2Headers,
  accept: (status: number, headers: http2.IncomingHttpHeaders) => boolean = (s) => s === 200,
): H2Stream {
  const req = session.request(headers, { endStream: false });
  trackStream(session, req);
  const ready = new Promise<void>((resolve, reject) => {
    req.once("response", (h) => {
      const status = Number(h[":status"]);
      if (accept(status, h)) resolve();
      else {
        reject(new Error(`unexpected HTTP/2 status ${status}`));
        req.close(http2.constants.NGHTTP2_CANCEL);
      }
    });
    req.once("error", reject);
    req.once("close", () => reject(new Error("HTTP/2 stream closed before the response")));
  });
  return new H2Stream(req, ready);
}

/**
 * An HTTP/2 client over streams from `connect` (already TLS with ALPN h2, or plain for h2c with
 * prior knowledge). One connection is shared by all requests until it fails or is closed.
 */
export class H2Client {
  #connect: () => Promise<Stream>;
  #authority: string;
  #session: http2.ClientHttp2Session | null = null;
  #pending: Promise<http2.ClientHttp2Session> | null = null;
  #closed = false;
  #keepAlive: ClientKeepAliveConfig | undefined;

  /**
   * `authority` is the `scheme://host:port` used for `:scheme` and `:authority`; `keepAlive`
   * turns on PINGs after read silence (`idle_timeout`/`ping_timeout`).
   */
  constructor(authority: string, connect: () => Promise<Stream>, keepAlive?: ClientKeepAliveConfig) {
    this.#authority = authority;
    this.#connect = connect;
    this.#keepAlive = keepAlive;
  }

  async #get(): Promise<http2.ClientHttp2Session> {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    this.#session = null;
    return await (this.#pending ??= this.#create().finally(() => this.#pending = null));
  }

  async #create(): Promise<http2.ClientHttp2Session> {
    if (this.#closed) throw new Error("HTTP/2 client is closed");
    const session = await connectH2(await this.#connect(), this.#authority, this.#keepAlive);
    const forget = () => {
      if (this.#session === session) this.#session = null;
    };
    session.on("close", forget);
    session.on("goaway", forget);
    this.#session = session;
    return session;
  }

  /**
   * Opens a request stream. The returned stream's reads wait for the response headers and fail
   * unless `accept(status, headers)` is true.
   *
   * @throws {Error} If the connection cannot be established.
   */
  async open(
    headers: H2Headers,
    accept: (status: number, headers: http2.IncomingHttpHeaders) => boolean = (s) => s === 200,
  ): Promise<Stream> {
    return openH2Stream(await this.#get(), headers, accept);
  }

  /** Closes the shared connection; later `open` calls fail. */
  close(): void {
    this.#closed = true;
    this.#session?.destroy();
    this.#session = null;
  }
}

/** What {@linkcode serveH2} hands to its callback for each request stream. */
export interface H2Request {
  headers: http2.IncomingHttpHeaders;
  /** Answers with `status` (and no body, ending the stream) as a rejection. */
  reject(status: number): void;
  /** Answers 200 with `headers` and returns the bidirectional stream. */
  accept(headers?: Record<string, string>): H2Stream;
}

/**
 * Serves HTTP/2 (after the client preface) on `conn` until the connection closes, calling
 * `onRequest` once per request stream. Resolves when the connection is gone. With `idleMs`
 * (`idle_timeout`), a connection without open streams for that long is closed with GOAWAY.
 */
export function serveH2(
  conn: Stream,
  onRequest: (r: H2Request) => void,
  options: { idleMs?: number } = {},
): Promise<void> {
  const server = http2.createServer({ settings: { initialWindowSize: H2_WINDOW } });
  return new Promise<void>((resolve) => {
    server.on("session", (session: http2.ServerHttp2Session) => {
      session.on("error", () => {});
      session.on("close", () => resolve());
      try {
        session.setLocalWindowSize(H2_WINDOW);
      } catch { /* not supported */ }
      if (options.idleMs) keepAlives.set(session, new H2KeepAlive(session, { serverIdleMs: options.idleMs }));
    });
    server.on("stream", (h: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      h.on("error", () => {});
      trackStream(h.session!, h);
      onRequest({
        headers,
        reject(status) {
          if (h.destroyed) return;
          h.respond({ ":status": status }, { endStream: true });
        },
        accept(extra = {}) {
          h.respond({ ":status": 200, ...extra });
          return new H2Stream(h);
        },
      });
    });
    const duplex = new StreamDuplex(conn);
    duplex.on("close", () => resolve());
    server.emit("connection", duplex);
  });
}
