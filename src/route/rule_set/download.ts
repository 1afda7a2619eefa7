/**
 * Downloads a remote rule-set through an outbound (`download_detour`, else the default outbound;
 * spec sing-box.md §3.5): `node:http`/`node:https` run over a stream the outbound dials, so the
 * request takes the same path as proxied traffic. Redirects are followed (up to 10, as Go's
 * `http.Client`); any final status other than 200 is an error.
 *
 * @module
 */
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { Dialer } from "../../adapter/types.ts";
import { isIP } from "../../common/ip.ts";
import { StreamDuplex } from "../../common/node_stream.ts";

/** Largest accepted rule-set, bytes. */
export const MAX_RULE_SET_BYTES = 64 << 20;
const MAX_REDIRECTS = 10;
/** Whole download, ms. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** Options of {@linkcode downloadVia}. */
export interface DownloadOptions {
  signal?: AbortSignal;
  /** Gives up after this long, ms. @default {60000} */
  timeoutMs?: number;
  /** @default {MAX_RULE_SET_BYTES} */
  maxBytes?: number;
}

type Reply = { status: number; location?: string; body?: Uint8Array };

async function getOnce(dialer: Dialer, url: URL, signal: AbortSignal, maxBytes: number): Promise<Reply> {
  const secure = url.protocol === "https:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port) || (secure ? 443 : 80);
  const stream = await dialer.dial({ host, port }, { signal });
  const duplex = new StreamDuplex(stream);
  const socket = secure
    ? tls.connect({
      socket: duplex as never,
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ["http/1.1"],
    })
    : duplex;
  try {
    return await new Promise<Reply>((resolve, reject) => {
      const req = (secure ? https : http).request(url, {
        createConnection: () => socket as never,
        headers: { "user-agent": "switchyard", connection: "close" },
        signal,
      }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          resolve({ status, location: res.headers.location });
          return;
        }
        const chunks: Uint8Array[] = [];
        let size = 0;
        res.on("data", (c: Uint8Array) => {
          size += c.length;
          if (size > maxBytes) {
            reject(new Error(`rule-set larger than ${maxBytes} bytes`));
            req.destroy();
          } else chunks.push(c);
        });
        res.on("end", () => {
          const body = new Uint8Array(size);
          let off = 0;
          for (const c of chunks) {
            body.set(c, off);
            off += c.length;
          }
          resolve({ status, body });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      socket.on("error", reject);
      req.end();
    });
  } finally {
    socket.destroy();
  }
}

/**
 * GETs `url` (http or https) over streams from `dialer`.
 *
 * @returns the response body
 * @throws {Error} On a dial/TLS failure, a status other than 200 after redirects, a body over
 *   `maxBytes`, a timeout or an abort
 */
export async function downloadVia(
  dialer: Dialer,
  url: string,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let current = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      throw new Error(`unsupported URL scheme "${current.protocol}" in ${current}`);
    }
    const reply = await getOnce(dialer, current, signal, options.maxBytes ?? MAX_RULE_SET_BYTES);
    if (reply.body) return reply.body;
    if (reply.status >= 300 && reply.status < 400 && reply.location) {
      current = new URL(reply.location, current);
      continue;
    }
    throw new Error(`download of ${current} failed: HTTP ${reply.status}`);
  }
  throw new Error(`download of ${url} failed: more than ${MAX_REDIRECTS} redirects`);
}
