/**
 * DNS over HTTPS (`type: "https"`, RFC 8484) through `fetch` with a dedicated HTTP client
 * (HTTP/2 when the server offers it). The message ID is sent as 0 and restored on the answer.
 *
 * @module
 */
import { isIP } from "../../common/ip.ts";
import type { DnsTransport } from "../transport.ts";
import { getId, setId } from "../wire.ts";
import type { RemoteTransportOptions } from "./_server.ts";
import type { DnsTlsOptions } from "./_tls.ts";

/** Options of an `https` DNS server. */
export interface HttpsTransportOptions extends RemoteTransportOptions {
  /** @default {"/dns-query"} */
  path?: string;
  /** `POST` (default) or `GET` (`?dns=` base64url). */
  method?: string;
  headers?: Record<string, string | string[]>;
  tls?: DnsTlsOptions;
}

const MEDIA_TYPE = "application/dns-message";

/** An `https` (DoH) DNS server. */
export class HttpsTransport implements DnsTransport {
  readonly type: string = "https";
  readonly tag: string;
  readonly url: string;
  readonly #options: HttpsTransportOptions;
  readonly #client: Deno.HttpClient;

  constructor(options: HttpsTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    const port = options.serverPort || 443;
    const tls = options.tls ?? {};
    const name = tls.serverName || options.server;
    const hostPart = isIP(name) === 6 ? `[${name}]` : name;
    let path = options.path || "/dns-query";
    if (!path.startsWith("/")) path = "/" + path;
    // fetch dials the URL's host itself: with a `server_name` the name is resolved by the
    // system, not pinned to `server` (Deno's HTTP client has no resolve override).
    this.url = `https://${hostPart}${port === 443 ? "" : `:${port}`}${path}`;
    this.#client = Deno.createHttpClient({ caCerts: tls.caCerts, poolMaxIdlePerHost: 4 });
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const id = getId(query);
    const body = query.slice();
    setId(body, 0);
    const headers = new Headers({ accept: MEDIA_TYPE });
    for (const [k, v] of Object.entries(this.#options.headers ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) headers.append(k, item);
    }
    const method = (this.#options.method || "POST").toUpperCase();
    let response: Response;
    if (method === "GET") {
      const url = new URL(this.url);
      url.searchParams.set("dns", base64Url(body));
      response = await fetch(url, { method, headers, client: this.#client, signal });
    } else {
      headers.set("content-type", MEDIA_TYPE);
      response = await fetch(this.url, { method, headers, body, client: this.#client, signal });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`DNS over HTTPS to ${this.url} failed: HTTP ${response.status}`);
    }
    const answer = new Uint8Array(await response.arrayBuffer());
    if (answer.length < 12) throw new Error(`DNS over HTTPS to ${this.url} returned ${answer.length} bytes`);
    setId(answer, id);
    return answer;
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}

function base64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
