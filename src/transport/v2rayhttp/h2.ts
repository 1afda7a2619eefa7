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

/** HTTP/2 stream and connection receive windows, bytes (larger than the 64 KiB default for throughput). */
export const H2_WINDOW = 4 << 20;

/** A {@linkcode Stream} over one HTTP/2 request or response stream; closing cancels the stream. */
export class H2Stream extends NodeDuplexStream {
  /** `ready` settles when the peer's headers are acceptable (client: the response status). */
  constructor(h: http2.Http2Stream, ready: Promise<void> = Promise.resolve()) {
    super(h, { ready, close: () => h.close(http2.constants.NGHTTP2_CANCEL) });
  }
}

/** Request headers for {@linkcode H2Client.open}. */
export type H2Headers = Record<string, string | string[]>;

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

  /** `authority` is the `scheme://host:port` used for `:scheme` and `:authority`. */
  constructor(authority: string, connect: () => Promise<Stream>) {
    this.#authority = authority;
    this.#connect = connect;
  }

  async #get(): Promise<http2.ClientHttp2Session> {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    this.#session = null;
    return await (this.#pending ??= this.#create().finally(() => this.#pending = null));
  }

  async #create(): Promise<http2.ClientHttp2Session> {
    if (this.#closed) throw new Error("HTTP/2 client is closed");
    const conn = await this.#connect();
    const duplex = new StreamDuplex(conn);
    const session = http2.connect(this.#authority, {
      createConnection: () => duplex as never,
      settings: { initialWindowSize: H2_WINDOW, enablePush: false },
    });
    session.on("error", () => {});
    const forget = () => {
      if (this.#session === session) this.#session = null;
    };
    session.on("close", forget);
    session.on("goaway", forget);
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
      session.once("close", () => reject(new Error("HTTP/2 connection closed during setup")));
    });
    try {
      session.setLocalWindowSize(H2_WINDOW);
    } catch { /* not supported */ }
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
    const session = await this.#get();
    const req = session.request(headers, { endStream: false });
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
  accept(headers?: Record<string, string>): Stream;
}

/**
 * Serves HTTP/2 (after the client preface) on `conn` until the connection closes, calling
 * `onRequest` once per request stream. Resolves when the connection is gone.
 */
export function serveH2(conn: Stream, onRequest: (r: H2Request) => void): Promise<void> {
  const server = http2.createServer({ settings: { initialWindowSize: H2_WINDOW } });
  return new Promise<void>((resolve) => {
    server.on("session", (session: http2.ServerHttp2Session) => {
      session.on("error", () => {});
      session.on("close", () => resolve());
      try {
        session.setLocalWindowSize(H2_WINDOW);
      } catch { /* not supported */ }
    });
    server.on("stream", (h: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      h.on("error", () => {});
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
