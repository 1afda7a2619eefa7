/**
 * A TCP accept loop that owns its listener: each accepted connection is handed to a handler
 * whose errors are logged, never thrown; `close()` stops accepting (established connections
 * are owned by the router and left alone).
 *
 * @module
 */
import type { Logger } from "./log.ts";
import { errorMessage } from "./errors.ts";

/** Options of {@linkcode TcpListener}. */
export interface TcpListenerOptions {
  hostname: string;
  port: number;
  /** Serve TLS with these PEM strings instead of plain TCP. */
  tls?: { cert: string; key: string; alpnProtocols?: string[] };
}

/** Accepts TCP (or TLS) connections and dispatches them. */
export class TcpListener {
  #listener: Deno.Listener | null = null;
  #opts: TcpListenerOptions;
  #logger: Logger;
  #handler: (conn: Deno.Conn) => Promise<void>;
  #loop: Promise<void> | null = null;

  constructor(opts: TcpListenerOptions, logger: Logger, handler: (conn: Deno.Conn) => Promise<void>) {
    this.#opts = opts;
    this.#logger = logger;
    this.#handler = handler;
  }

  /** The bound address (after `start`). */
  get addr(): Deno.NetAddr {
    if (!this.#listener) throw new Error("Listener is not started");
    return this.#listener.addr as Deno.NetAddr;
  }

  /**
   * Binds and starts accepting.
   * @throws {Deno.errors.AddrInUse} If the address is taken
   */
  start(): void {
    const { hostname, port, tls } = this.#opts;
    this.#listener = tls
      ? Deno.listenTls({
        hostname,
        port,
        transport: "tcp",
        cert: tls.cert,
        key: tls.key,
        alpnProtocols: tls.alpnProtocols,
      })
      : Deno.listen({ hostname, port, transport: "tcp" });
    this.#loop = this.#accept(this.#listener);
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        this.#logger.error(`accept: ${errorMessage(e)}`);
        await new Promise((r) => setTimeout(r, 50)); // e.g. EMFILE: back off instead of spinning
        continue;
      }
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      this.#handler(conn).catch((e) => {
        this.#logger.error(
          `connection from ${(conn.remoteAddr as Deno.NetAddr).hostname}: ${errorMessage(e)}`,
        );
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  }

  /** Stops accepting and waits for the accept loop to end. */
  async close(): Promise<void> {
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    this.#listener = null;
    await this.#loop;
  }
}
