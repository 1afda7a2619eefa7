/**
 * DNS over TCP (`type: "tcp"`): one connection per query, 2-byte length prefix.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import type { DnsTransport } from "../transport.ts";
import { getId } from "../wire.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import { readStreamMessage, withAbort, writeStreamMessage } from "./_stream.ts";

/** A `tcp` DNS server. */
export class TcpTransport implements DnsTransport {
  readonly type: string = "tcp";
  readonly tag: string;
  readonly #options: RemoteTransportOptions;
  readonly #port: number;

  constructor(options: RemoteTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    this.#port = options.serverPort || 53;
  }

  /** The upstream as `host:port`. */
  get address(): string {
    return `${this.#options.server}:${this.#port}`;
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const host = await resolveServer(this.#options.server, this.#options.resolver, signal);
    let conn: Stream | undefined;
    const close = () => {
      try {
        conn?.close();
      } catch { /* already closed */ }
    };
    try {
      return await withAbort(signal, close, async () => {
        conn = this.#options.dialer
          ? await this.#options.dialer.dial({ host, port: this.#port }, { signal })
          : await Deno.connect({ hostname: host, port: this.#port });
        if (signal?.aborted) throw signal.reason;
        return await exchangeOverStream(conn, query);
      });
    } finally {
      close();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Sends `query` on an open stream and reads messages until one with the query's ID arrives.
 *
 * @throws {Deno.errors.UnexpectedEof} If the stream closes first
 */
export async function exchangeOverStream(conn: Stream, query: Uint8Array): Promise<Uint8Array> {
  await writeStreamMessage(conn, query);
  const id = getId(query);
  for (;;) {
    const response = await readStreamMessage(conn);
    if (!response) throw new Deno.errors.UnexpectedEof("DNS server closed the connection before answering");
    if (response.length >= 12 && getId(response) === id) return response;
  }
}
