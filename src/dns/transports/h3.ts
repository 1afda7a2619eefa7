/**
 * DNS over HTTP/3 (`type: "h3"`, RFC 8484 over RFC 9114) on Switchyard's own HTTP/3 client. The
 * message ID is sent as 0 (RFC 8484 §4.1) and restored on the answer. Queries with EDNS are
 * padded to 128-byte blocks and padding is stripped from answers (see `../padding.ts`). One QUIC
 * connection is kept per server and reopened when it closes.
 *
 * @example Usage
 * ```ts ignore
 * const doh3 = new H3Transport({ tag: "cf", server: "1.1.1.1", tls: { serverName: "cloudflare-dns.com" } });
 * const answer = await doh3.exchange(query);
 * await doh3.close();
 * ```
 * @module
 */
import { isIP } from "../../common/ip.ts";
import { H3Client } from "../../http3/client.ts";
import type { DnsTransport } from "../transport.ts";
import { padMessage, QUERY_BLOCK, stripPadding } from "../padding.ts";
import { getId, setId } from "../wire.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import type { DnsTlsOptions } from "./_tls.ts";

/** Options of an `h3` DNS server. */
export interface H3TransportOptions extends Omit<RemoteTransportOptions, "dialer"> {
  /** @default "/dns-query" */
  path?: string;
  /** `POST` (default) or `GET` (`?dns=` base64url). */
  method?: "GET" | "POST";
  headers?: Record<string, string | string[]>;
  tls?: DnsTlsOptions;
  /** Close the connection after this long idle (ms). @default 30000 */
  idleTimeout?: number;
}

const MEDIA_TYPE = "application/dns-message";

/** An `h3` (DNS over HTTP/3) DNS server. */
export class H3Transport implements DnsTransport {
  readonly type: string = "h3";
  readonly tag: string;
  /** The query URL (host is the TLS server name). */
  readonly url: string;
  readonly #options: H3TransportOptions;
  readonly #client: H3Client;

  constructor(options: H3TransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    const port = options.serverPort || 443;
    const tls = options.tls ?? {};
    const name = tls.serverName || options.server;
    const hostPart = isIP(name) === 6 ? `[${name}]` : name;
    let path = options.path || "/dns-query";
    if (!path.startsWith("/")) path = "/" + path;
    this.url = `https://${hostPart}${port === 443 ? "" : `:${port}`}${path}`;
    this.#client = new H3Client({
      ...(tls.caCerts ? { caCerts: tls.caCerts } : {}),
      idleTimeout: options.idleTimeout ?? 30000,
      // Dial `server` whatever name the certificate is checked against.
      resolveHost: () => resolveServer(options.server, options.resolver),
    });
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const id = getId(query);
    // RFC 8484 §8 and RFC 8467: an EDNS query is padded to a 128-byte block.
    let body = padMessage(query, QUERY_BLOCK);
    if (body === query) body = query.slice();
    setId(body, 0);
    const headers = new Headers({ accept: MEDIA_TYPE });
    for (const [k, v] of Object.entries(this.#options.headers ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) headers.append(k, item);
    }
    let response: Response;
    const init: RequestInit = signal ? { headers, signal } : { headers };
    if (this.#options.method === "GET") {
      const url = new URL(this.url);
      url.searchParams.set("dns", base64Url(body));
      response = await this.#client.fetch(url, init);
    } else {
      headers.set("content-type", MEDIA_TYPE);
      response = await this.#client.fetch(this.url, {
        ...init,
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
      });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`DNS over HTTP/3 to ${this.url} failed: HTTP ${response.status}`);
    }
    const raw = new Uint8Array(await response.arrayBuffer());
    if (raw.length < 12) throw new Error(`DNS over HTTP/3 to ${this.url} returned ${raw.length} bytes`);
    const answer = stripPadding(raw); // padding belongs to this hop only
    setId(answer, id);
    return answer;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** base64url without padding (RFC 8484 §4.1 GET). */
export function base64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Factory for `DnsBuildContext.extraTransports.h3`. */
export function createH3Transport(o: {
  tag: string;
  server: string;
  serverPort?: number;
  path?: string;
  headers?: Record<string, string[]>;
  tls?: DnsTlsOptions;
}): H3Transport {
  return new H3Transport({
    tag: o.tag,
    server: o.server,
    ...(o.serverPort !== undefined ? { serverPort: o.serverPort } : {}),
    ...(o.path !== undefined ? { path: o.path } : {}),
    ...(o.headers !== undefined ? { headers: o.headers } : {}),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
  });
}
