/**
 * Serving DNS over HTTP/3 (RFC 8484 over RFC 9114) on the inbound side, with Switchyard's
 * HTTP/3 server: `POST` with an `application/dns-message` body or `GET ?dns=` (base64url) on the
 * query path. Answers carry `cache-control: max-age` = the smallest TTL (RFC 8484 §5.1); answers
 * to EDNS queries are padded to 468-byte blocks (RFC 8467, see `padding.ts`).
 *
 * @example Usage
 * ```ts ignore
 * const server = serveDoh3(routerAnswerer(router), { port: 443, cert, key });
 * await server.shutdown();
 * ```
 * @module
 */
import type { Metadata } from "../adapter/types.ts";
import type { Logger } from "../common/log.ts";
import { type H3Server, serveH3 } from "../http3/server.ts";
import { decodeMessage } from "./message.ts";
import { answerToSend, receivedQuery } from "./padding.ts";
import type { DnsAnswerer } from "./serve_quic.ts";

/** Options of {@linkcode serveDoh3}. */
export interface Doh3ServerOptions {
  /** @default "0.0.0.0" */
  hostname?: string;
  /** @default 443 */
  port?: number;
  cert: string;
  key: string;
  /** @default "/dns-query" */
  path?: string;
  /** Inbound tag put in the metadata. @default "doh3-in" */
  inbound?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** QUIC idle timeout for client connections (ms). @default 30000 */
  idleTimeout?: number;
}

const MEDIA_TYPE = "application/dns-message";

/** Decodes base64url without padding; `null` if invalid. */
export function fromBase64Url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The smallest TTL of the answer's records, or undefined when it has none. */
function minTtl(answer: Uint8Array): number | undefined {
  try {
    const m = decodeMessage(answer);
    let min: number | undefined;
    for (const r of [...m.answers, ...m.authorities]) {
      if (typeof r.ttl === "number" && (min === undefined || r.ttl < min)) min = r.ttl;
    }
    return min;
  } catch {
    return undefined;
  }
}

/** Serves DNS over HTTP/3 with `answer`. */
export function serveDoh3(answer: DnsAnswerer, options: Doh3ServerOptions): H3Server {
  const path = options.path ?? "/dns-query";
  const inbound = options.inbound ?? "doh3-in";
  const text = (status: number, body: string, headers?: HeadersInit) =>
    new Response(body + "\n", { status, headers: { "content-type": "text/plain", ...headers } });
  return serveH3({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 443,
    cert: options.cert,
    key: options.key,
    quic: { maxIdleTimeout: options.idleTimeout ?? 30000 },
    ...(options.signal ? { signal: options.signal } : {}),
  }, async (req, info) => {
    const url = new URL(req.url);
    if (url.pathname !== path) return text(404, "Not found");
    let query: Uint8Array | null;
    if (req.method === "GET") {
      query = fromBase64Url(url.searchParams.get("dns") ?? "");
      if (!query) return text(400, "Missing or invalid dns parameter");
    } else if (req.method === "POST") {
      const type = req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
      if (type !== MEDIA_TYPE) return text(415, `Expected content-type ${MEDIA_TYPE}`);
      query = new Uint8Array(await req.arrayBuffer());
    } else {
      return text(405, "Method not allowed", { allow: "GET, POST" });
    }
    if (query.length < 12 || query.length > 65535) return text(400, "Malformed DNS message");
    const metadata: Metadata = {
      inbound,
      inboundType: "h3",
      network: "udp",
      source: { host: info.remoteAddr.hostname, port: info.remoteAddr.port },
      destination: { host: "", port: 0 },
    };
    const received = receivedQuery(query);
    const reply = await answer(received.query, metadata);
    if (!reply) return text(400, "Malformed DNS message");
    const ttl = minTtl(reply);
    return new Response(answerToSend(reply, received.padAnswer) as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": MEDIA_TYPE,
        ...(ttl !== undefined ? { "cache-control": `max-age=${ttl}` } : {}),
      },
    });
  });
}
