/**
 * DNS over HTTPS (`type: "https"`, RFC 8484) on one shared HTTP/2 connection (the project's
 * `H2Client` over the shared TLS client, so `server_name`, `insecure`, extra CAs and `detour`
 * work as for other TLS outbounds). The message ID is sent as 0 and restored on the answer.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { SystemDialer } from "../../common/dialer.ts";
import { isIP } from "../../common/ip.ts";
import { dialTls } from "../../transport/tls/client.ts";
import { H2Client, type H2Headers } from "../../transport/v2rayhttp/h2.ts";
import type { DnsTransport } from "../transport.ts";
import { getId, setId } from "../wire.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import { withAbort, writeAll } from "./_stream.ts";
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
const MAX_RESPONSE = 65535;

/** An `https` (DoH) DNS server. */
export class HttpsTransport implements DnsTransport {
  readonly type: string = "https";
  readonly tag: string;
  readonly url: string;
  readonly #options: HttpsTransportOptions;
  readonly #path: string;
  readonly #client: H2Client;

  constructor(options: HttpsTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    const port = options.serverPort || 443;
    const tls = options.tls ?? {};
    const name = tls.serverName || options.server;
    const hostPart = isIP(name) === 6 ? `[${name}]` : name;
    this.#path = options.path
      ? (options.path.startsWith("/") ? options.path : "/" + options.path)
      : "/dns-query";
    const authority = `https://${hostPart}${port === 443 ? "" : `:${port}`}`;
    this.url = authority + this.#path;
    this.#client = new H2Client(authority, async () => {
      const host = await resolveServer(options.server, options.resolver);
      return await dialTls(options.dialer ?? new SystemDialer(), { host, port }, {
        serverName: name,
        alpn: ["h2"],
        insecure: tls.insecure ?? false,
        caCerts: tls.caCerts,
      });
    });
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const id = getId(query);
    const body = query.slice();
    setId(body, 0);
    const get = (this.#options.method || "POST").toUpperCase() === "GET";
    const headers: H2Headers = {
      ":method": get ? "GET" : "POST",
      ":path": get
        ? `${this.#path}${this.#path.includes("?") ? "&" : "?"}dns=${base64Url(body)}`
        : this.#path,
      accept: MEDIA_TYPE,
    };
    if (!get) headers["content-type"] = MEDIA_TYPE;
    for (const [k, v] of Object.entries(this.#options.headers ?? {})) headers[k.toLowerCase()] = v;
    let stream: Stream | undefined;
    const close = () => stream?.close();
    try {
      return await withAbort(signal, close, async () => {
        stream = await this.#client.open(headers);
        if (!get) await writeAll(stream, body);
        await stream.closeWrite();
        const answer = await readAll(stream);
        if (answer.length < 12) {
          throw new Error(`DNS over HTTPS to ${this.url} returned ${answer.length} bytes`);
        }
        setId(answer, id);
        return answer;
      });
    } catch (e) {
      throw new Error(`DNS over HTTPS to ${this.url} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}

async function readAll(stream: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(16384);
  for (;;) {
    const n = await stream.read(buf);
    if (n === null) break;
    total += n;
    if (total > MAX_RESPONSE) throw new RangeError(`DNS over HTTPS answer exceeds ${MAX_RESPONSE} bytes`);
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function base64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
