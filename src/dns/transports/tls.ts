/**
 * DNS over TLS (`type: "tls"`, RFC 7858): length-prefixed messages on a TLS stream, with idle
 * connections kept for reuse.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { SystemDialer } from "../../common/dialer.ts";
import { dialTls } from "../../transport/tls/client.ts";
import type { DnsTransport } from "../transport.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import { withAbort } from "./_stream.ts";
import type { DnsTlsOptions } from "./_tls.ts";
import { exchangeOverStream } from "./tcp.ts";

/** Options of a `tls` DNS server. */
export interface TlsTransportOptions extends RemoteTransportOptions {
  tls?: DnsTlsOptions;
  /** Idle connections kept for reuse. @default {4} */
  maxIdle?: number;
}

/** A `tls` (DoT) DNS server. */
export class TlsTransport implements DnsTransport {
  readonly type: string = "tls";
  readonly tag: string;
  readonly #options: TlsTransportOptions;
  readonly #port: number;
  readonly #idle: Stream[] = [];
  #closed = false;

  constructor(options: TlsTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    this.#port = options.serverPort || 853;
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    // A pooled connection may have been closed by the server; retry once on a fresh one.
    const pooled = this.#idle.pop();
    if (pooled) {
      try {
        return await this.#exchangeOn(pooled, query, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
      }
    }
    return await this.#exchangeOn(await this.#dial(signal), query, signal);
  }

  async #dial(signal?: AbortSignal): Promise<Stream> {
    const tls = this.#options.tls ?? {};
    const host = await resolveServer(this.#options.server, this.#options.resolver, signal);
    const dialer = this.#options.dialer ?? new SystemDialer();
    const cfg = {
      serverName: tls.serverName || this.#options.server,
      alpn: tls.alpn,
      insecure: tls.insecure ?? false,
      caCerts: tls.caCerts,
    };
    let stream: Stream | undefined;
    const dialing = dialTls(dialer, { host, port: this.#port }, cfg, { signal }).then((s) => stream = s);
    return await withAbort(signal, () => void dialing.then((s) => s.close(), () => {}), () => dialing).catch(
      (e) => {
        stream?.close();
        throw e;
      },
    );
  }

  async #exchangeOn(conn: Stream, query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    let ok = false;
    try {
      const response = await withAbort(signal, () => conn.close(), () => exchangeOverStream(conn, query));
      ok = true;
      return response;
    } finally {
      if (ok && !this.#closed && this.#idle.length < (this.#options.maxIdle ?? 4)) this.#idle.push(conn);
      else {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    return Promise.resolve();
  }
}
