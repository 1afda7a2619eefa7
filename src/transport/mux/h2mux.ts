/**
 * sing-mux `h2mux` (SagerNet/sing-mux `h2mux.go`): after the session request (and the padding
 * layer, if on), the multiplexed connection speaks cleartext HTTP/2 with prior knowledge. The
 * client opens each stream as a `CONNECT` request for `localhost`; the server answers 200 and
 * both bodies then carry the sing-mux stream request/response and data, as smux streams do.
 * HTTP/2 flow control applies per stream and per connection (4 MiB windows, `H2_WINDOW`); both
 * sides keep sing-mux's 30 s idle rules (client PINGs, server closes idle connections).
 *
 * @module
 */
import type http2 from "node:http2";
import type { Stream } from "../../adapter/types.ts";
import { connectH2, type H2Stream, openH2Stream, serveH2 } from "../v2rayhttp/h2.ts";
import { DEFAULT_PING_TIMEOUT_MS } from "../v2rayhttp/h2_keepalive.ts";

/** The `:authority` sing-mux's client puts on every stream request. */
export const H2MUX_AUTHORITY = "localhost";
/**
 * sing-mux's HTTP/2 idle timeout, ms: the client PINGs after this much read silence (Go
 * `ReadIdleTimeout`), the server closes a connection without streams after it (`IdleTimeout`).
 */
export const H2MUX_IDLE_TIMEOUT_MS = 30_000;

/** Client side: one HTTP/2 connection, one CONNECT stream per multiplexed stream. */
export class H2MuxClientSession {
  #session: http2.ClientHttp2Session;
  #streams = new Set<H2Stream>();
  #closed = false;

  private constructor(session: http2.ClientHttp2Session) {
    this.#session = session;
    const gone = () => this.#closed = true;
    session.on("close", gone);
    session.on("goaway", gone);
  }

  /**
   * Starts HTTP/2 over `conn`.
   *
   * @throws {Error} If the connection closes during setup.
   */
  static async connect(conn: Stream): Promise<H2MuxClientSession> {
    return new H2MuxClientSession(
      await connectH2(conn, `http://${H2MUX_AUTHORITY}`, {
        idleMs: H2MUX_IDLE_TIMEOUT_MS,
        pingTimeoutMs: DEFAULT_PING_TIMEOUT_MS,
        permitWithoutStream: true,
      }),
    );
  }

  /** Streams not yet closed. */
  get numStreams(): number {
    return this.#streams.size;
  }

  /** True once the connection closed or the server sent GOAWAY. */
  get isClosed(): boolean {
    return this.#closed || this.#session.closed || this.#session.destroyed;
  }

  /**
   * Opens a stream; reads wait for the server's 200 (another status fails them).
   *
   * @throws {Error} If the session is closed.
   */
  open(): Stream {
    if (this.isClosed) throw new Error("h2mux session is closed");
    const s = openH2Stream(this.#session, { ":method": "CONNECT", ":authority": H2MUX_AUTHORITY });
    this.#streams.add(s);
    s.closed.then(() => this.#streams.delete(s));
    return s;
  }

  /** The client accepts no streams. */
  accept(): Promise<Stream | null> {
    return Promise.resolve(null);
  }

  close(): void {
    this.#closed = true;
    this.#session.destroy();
  }
}

/** Server side: every request stream is answered 200 and becomes a multiplexed stream. */
export class H2MuxServerSession {
  #conn: Stream;
  #accepted: Stream[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  #streams = 0;

  constructor(conn: Stream) {
    this.#conn = conn;
    serveH2(conn, (r) => {
      const s = r.accept() as H2Stream;
      this.#streams++;
      s.closed.then(() => this.#streams--);
      this.#accepted.push(s);
      this.#wake();
    }, { idleMs: H2MUX_IDLE_TIMEOUT_MS }).then(() => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  get numStreams(): number {
    return this.#streams;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The server opens no streams. @throws {Error} Always. */
  open(): Stream {
    throw new Error("an h2mux server cannot open streams");
  }

  /** Waits for the next stream; `null` once the connection is gone. */
  async accept(): Promise<Stream | null> {
    while (!this.#accepted.length) {
      if (this.#closed) return null;
      await new Promise<void>((r) => this.#waiter = r);
    }
    return this.#accepted.shift()!;
  }

  close(): void {
    this.#closed = true;
    this.#wake();
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
