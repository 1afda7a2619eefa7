/**
 * DNS over QUIC (`type: "quic"`, RFC 9250) on Deno QUIC: ALPN `doq`, one bidirectional stream per
 * query carrying a 2-byte length and the message (ID 0, restored on the answer), the client's FIN
 * after the query. Queries with EDNS are padded to 128-byte blocks and padding is stripped from
 * answers (RFC 9250 §5.4, see `../padding.ts`). One connection per server, reopened when it closes.
 *
 * @example Usage
 * ```ts ignore
 * const doq = new QuicTransport({ tag: "adguard", server: "94.140.14.14", tls: { serverName: "dns.adguard-dns.com" } });
 * const answer = await doq.exchange(query);
 * await doq.close();
 * ```
 * @module
 */
import { abortable } from "../../http3/client.ts";
import type { DnsTransport } from "../transport.ts";
import { padMessage, QUERY_BLOCK, stripPadding } from "../padding.ts";
import { getId, setId } from "../wire.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import type { DnsTlsOptions } from "./_tls.ts";

/** DoQ error codes (RFC 9250 §4.3). */
export const DOQ_ERROR = {
  NO_ERROR: 0x0,
  INTERNAL_ERROR: 0x1,
  PROTOCOL_ERROR: 0x2,
  REQUEST_CANCELLED: 0x3,
  EXCESSIVE_LOAD: 0x4,
  UNSPECIFIED_ERROR: 0x5,
} as const;

/** The ALPN token of DNS over QUIC. */
export const DOQ_ALPN = "doq";

/** Options of a `quic` DNS server. */
export interface QuicTransportOptions extends Omit<RemoteTransportOptions, "dialer"> {
  tls?: DnsTlsOptions;
  /** Close the connection after this long idle (ms), as a QUIC idle timeout. @default 30000 */
  idleTimeout?: number;
}

/** Reads a whole QUIC receive stream (a DoQ answer is small). */
export async function readAll(readable: ReadableStream<Uint8Array>, limit = 65537): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of readable) {
    parts.push(chunk);
    n += chunk.length;
    if (n > limit) throw new RangeError(`DNS over QUIC stream longer than ${limit} bytes`);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

/** Prefixes `msg` with its 2-byte length. */
export function frameMessage(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 2);
  out[0] = msg.length >> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}

/** A `quic` (DNS over QUIC) DNS server. */
export class QuicTransport implements DnsTransport {
  readonly type: string = "quic";
  readonly tag: string;
  readonly #options: QuicTransportOptions;
  #conn: Promise<Deno.QuicConn> | undefined;
  #closed = false;

  constructor(options: QuicTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
  }

  #connect(): Promise<Deno.QuicConn> {
    if (this.#conn) return this.#conn;
    const o = this.#options;
    const tls = o.tls ?? {};
    const p = (async () => {
      const hostname = await resolveServer(o.server, o.resolver);
      const conn = await Deno.connectQuic({
        hostname,
        port: o.serverPort || 853,
        serverName: tls.serverName || o.server,
        alpnProtocols: [DOQ_ALPN],
        maxIdleTimeout: o.idleTimeout ?? 30000,
        ...(tls.caCerts ? { caCerts: tls.caCerts } : {}),
      });
      const forget = () => {
        if (this.#conn === p) this.#conn = undefined;
      };
      conn.closed.then(forget, forget);
      return conn;
    })();
    this.#conn = p;
    p.catch(() => {
      if (this.#conn === p) this.#conn = undefined;
    });
    return p;
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.#closed) throw new Error(`DNS server "${this.tag}" is closed`);
    signal?.throwIfAborted();
    const id = getId(query);
    // RFC 9250 §5.4: Deno's QUIC cannot pad packets, so an EDNS query is padded with EDNS(0).
    let msg = padMessage(query, QUERY_BLOCK);
    if (msg === query) msg = query.slice();
    setId(msg, 0); // RFC 9250 §4.2.1: the ID must be 0.
    for (let attempt = 0;; attempt++) {
      const conn = await abortable(this.#connect(), signal);
      let stream: Deno.QuicBidirectionalStream;
      try {
        stream = await conn.createBidirectionalStream({ waitUntilAvailable: true });
      } catch (e) {
        // The cached connection died (idle timeout, server restart): one fresh try.
        try {
          conn.close();
        } catch { /* closed */ }
        if (this.#conn) this.#conn = undefined;
        if (attempt === 0) continue;
        throw e;
      }
      const onAbort = () => {
        stream.readable.cancel().catch(() => {});
        stream.writable.abort().catch(() => {});
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        const w = stream.writable.getWriter();
        await w.write(frameMessage(msg));
        await w.close();
        const data = await readAll(stream.readable);
        signal?.throwIfAborted();
        if (data.length < 2) throw new Error(`DNS over QUIC answer from "${this.tag}" is empty`);
        const len = (data[0] << 8) | data[1];
        if (len < 12 || data.length < len + 2) {
          throw new Error(
            `DNS over QUIC answer from "${this.tag}" is truncated (${data.length - 2} of ${len} bytes)`,
          );
        }
        // Padding belongs to this hop only.
        const answer = stripPadding(data.slice(2, 2 + len));
        setId(answer, id);
        return answer;
      } catch (e) {
        signal?.throwIfAborted();
        throw e;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    const p = this.#conn;
    this.#conn = undefined;
    // A connect still under way is closed when it completes; do not wait for it.
    p?.then((c) => c.close({ closeCode: DOQ_ERROR.NO_ERROR, reason: "" })).catch(() => {});
    return Promise.resolve();
  }
}

/** Factory for `DnsBuildContext.extraTransports.quic`. */
export function createQuicTransport(o: {
  tag: string;
  server: string;
  serverPort?: number;
  tls?: DnsTlsOptions;
}): QuicTransport {
  return new QuicTransport({
    tag: o.tag,
    server: o.server,
    ...(o.serverPort !== undefined ? { serverPort: o.serverPort } : {}),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
  });
}
