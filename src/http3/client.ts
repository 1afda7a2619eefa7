/**
 * HTTP/3 client over Deno QUIC: {@linkcode H3Client} keeps one connection per origin and sends
 * web `Request`s as HTTP/3 requests; {@linkcode h3fetch} is `fetch` for `https:` URLs over HTTP/3.
 *
 * @example Usage
 * ```ts ignore
 * import { H3Client } from "./client.ts";
 * const client = new H3Client({ caCerts: [await Deno.readTextFile("ca.pem")] });
 * const res = await client.fetch("https://localhost:4433/index.html");
 * console.log(res.status, await res.text());
 * await client.close();
 * ```
 * @module
 */
import {
  ClientConnection,
  type H3ClientOptions,
  type H3ConnectOptions,
  type H3Tunnel,
  RequestRejectedError,
} from "./client_connection.ts";
import type { H3Session } from "./session.ts";

export {
  type H3ClientOptions,
  type H3ConnectOptions,
  type H3Tunnel,
  RequestRejectedError,
  responseTrailers,
} from "./client_connection.ts";

/** Counters of one HTTP/3 connection. */
export interface H3ConnectionStats {
  origin: string;
  /** Entries this side's QPACK encoder inserted, and how many the peer acknowledged. */
  encoderInserts: number;
  encoderAcknowledged: number;
  /** Entries the peer's encoder inserted into this side's decoder table. */
  decoderInserts: number;
  /** Push streams the server opened (cancelled pushes included). */
  pushStreams: number;
}

function connectionStats(c: ClientConnection): Omit<H3ConnectionStats, "origin"> {
  const s: H3Session = c.session;
  return {
    encoderInserts: s.encoder.table.insertCount,
    encoderAcknowledged: s.encoder.knownReceivedCount,
    decoderInserts: s.decoder.table.insertCount,
    pushStreams: c.pushStreams,
  };
}

/**
 * An HTTP/3 client with a connection pool keyed by origin.
 *
 * @example Usage
 * ```ts ignore
 * const client = new H3Client();
 * const res = await client.fetch("https://example.com/");
 * await res.body?.cancel();
 * await client.close();
 * ```
 */
export class H3Client {
  readonly #options: H3ClientOptions;
  readonly #conns = new Map<string, Promise<ClientConnection>>();
  /** Connections whose connect has completed, by their promise. */
  readonly #ready = new WeakMap<Promise<ClientConnection>, ClientConnection>();
  #closed = false;

  constructor(options: H3ClientOptions = {}) {
    this.#options = options;
  }

  /**
   * Sends a request over HTTP/3 and resolves with the response once its headers arrive. Only
   * `https:` URLs are accepted. A request the server refused with GOAWAY before processing it is
   * retried once on a new connection when it has no body.
   *
   * @throws {TypeError} If the URL is not `https:`.
   */
  async fetch(input: Request | URL | string, init?: RequestInit): Promise<Response> {
    if (this.#closed) throw new TypeError("Cannot fetch: the H3Client is closed");
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== "https:") {
      throw new TypeError(`Cannot fetch "${url.href}" over HTTP/3: only https: URLs`);
    }
    for (let attempt = 0;; attempt++) {
      const conn = await abortable(this.#connection(url), req.signal);
      try {
        return await conn.request(req);
      } catch (e) {
        if (e instanceof RequestRejectedError && attempt === 0 && req.body === null) continue;
        throw e;
      }
    }
  }

  async #connection(url: URL): Promise<ClientConnection> {
    const key = url.host;
    const existing = this.#conns.get(key);
    if (existing) {
      try {
        const c = await existing;
        if (c.usable) return c;
      } catch {
        // failed connect: make a new one
      }
      if (this.#conns.get(key) === existing) this.#conns.delete(key);
    }
    const p = ClientConnection.connect(url, this.#options);
    this.#conns.set(key, p);
    p.then((c) => this.#ready.set(p, c), () => {});
    p.then((c) =>
      c.session.closed.then(() => {
        if (this.#conns.get(key) === p) this.#conns.delete(key);
      }), () => {
      if (this.#conns.get(key) === p) this.#conns.delete(key);
    });
    return await p;
  }

  /**
   * Opens a CONNECT tunnel to `url`'s authority; with `protocol`, an extended CONNECT
   * (RFC 9220) to `url`'s path, which needs the server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
   *
   * @throws {TypeError} If `protocol` is given and the server did not enable extended CONNECT.
   */
  async connect(input: URL | string, options: H3ConnectOptions = {}): Promise<H3Tunnel> {
    const url = new URL(input);
    const conn = await this.#connection(url);
    return await conn.tunnel(url, options);
  }

  /** Per-connection counters, for diagnostics and tests. */
  async stats(): Promise<H3ConnectionStats[]> {
    const out: H3ConnectionStats[] = [];
    for (const [origin, p] of this.#conns) {
      try {
        const c = await p;
        out.push({ origin, ...connectionStats(c) });
      } catch {
        // failed connect
      }
    }
    return out;
  }

  /** Closes every connection (GOAWAY, then CONNECTION_CLOSE with H3_NO_ERROR). */
  async close(): Promise<void> {
    this.#closed = true;
    const conns = [...this.#conns.values()];
    this.#conns.clear();
    const shut = (c: ClientConnection) => {
      c.session.sendGoaway(0);
      c.session.close();
      return c.session.closed;
    };
    await Promise.all(conns.map(async (p) => {
      const c = this.#ready.get(p);
      // A connect still under way is closed when it completes; do not wait for it.
      if (c === undefined) return void p.then(shut, () => {});
      await shut(c);
    }));
  }
}

/** Resolves like `p`, or rejects with the signal's reason once it aborts. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

let defaultClient: H3Client | undefined;

/**
 * `fetch` over HTTP/3. Uses a shared {@linkcode H3Client} whose idle connections close after one
 * second, unless `init.client` names another.
 *
 * @example Usage
 * ```ts ignore
 * const res = await h3fetch("https://localhost:4433/", { client: new H3Client({ caCerts: [ca] }) });
 * ```
 */
export function h3fetch(
  input: Request | URL | string,
  init?: RequestInit & { client?: H3Client },
): Promise<Response> {
  const { client: explicit, ...rest } = init ?? {};
  const client = explicit ?? (defaultClient ??= new H3Client({ idleTimeout: 1000 }));
  return client.fetch(input, rest);
}
