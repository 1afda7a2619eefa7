/**
 * The V2Ray `http` transport without TLS, as sing-box does it (`transport/v2rayhttp`): plain
 * HTTP/1.1. The client sends `<method> <path> HTTP/1.1` with `Host` and the configured headers
 * (no body length) followed directly by tunnel bytes; the server answers `200 OK` and both sides
 * then carry raw bytes.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream, type StreamDecoder, type StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { HandshakeReader } from "../../common/handshake_reader.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeRequestHead,
  encodeResponse,
  type Header,
  MAX_HEAD,
} from "../../protocol/http/codec.ts";

/** Settings shared by client and server. */
export interface V2rayHttpOptions {
  /** Client: one is picked at random for `Host`; server: allowed `Host` values (any when empty). */
  host?: string[];
  /** Request path; the server accepts any path starting with it. @default "/" */
  path?: string;
  /** Client method (default `PUT`); server: required method when set. */
  method?: string;
  headers?: Record<string, string | string[]>;
}

/** The normalised path (`/` prepended). */
export function normalPath(path: string | undefined): string {
  const p = path || "/";
  return p.startsWith("/") ? p : "/" + p;
}

/** Picks a host name from the list, or `fallback` when it is empty. */
export function pickHost(hosts: string[] | undefined, fallback: string): string {
  if (!hosts?.length) return fallback;
  return hosts[Math.floor(Math.random() * hosts.length)];
}

/** Flattens a header map into `[name, value]` pairs. */
export function headerPairs(headers: Record<string, string | string[]> | undefined): Header[] {
  const out: Header[] = [];
  for (const [k, v] of Object.entries(headers ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) out.push([k, x]);
  }
  return out;
}

/** Encodes the client's request head. */
export function encodeHttp1Request(o: V2rayHttpOptions, host: string): Uint8Array {
  const extra = headerPairs(o.headers).filter(([k]) => k.toLowerCase() !== "host");
  const hostHeader = headerPairs(o.headers).find(([k]) => k.toLowerCase() === "host")?.[1] ?? host;
  return encodeRequestHead({
    method: o.method || "PUT",
    target: normalPath(o.path),
    version: "HTTP/1.1",
    headers: [["Host", hostHeader], ...extra],
  });
}

class Identity implements StreamEncoder {
  encode(p: Uint8Array): Uint8Array {
    return p;
  }
}

/** Skips the response head (status must be 200), then passes bytes through. */
export class Http1ResponseDecoder implements StreamDecoder {
  #head = true;
  decode(q: ByteQueue): Uint8Array | null {
    if (this.#head) {
      const r = decodeResponseHead(q.peek());
      if (!r) {
        if (q.length > MAX_HEAD) throw new ProtocolError("v2ray-http", q.length, "response head too long");
        return null;
      }
      if (r.value.status !== 200) {
        throw new ProtocolError("v2ray-http", 9, `unexpected status ${r.value.status} ${r.value.reason}`);
      }
      q.consume(r.length);
      this.#head = false;
    }
    if (!q.length) return null;
    return q.take(q.length);
  }
}

/** Wraps `inner` as an HTTP/1.1 tunnel client; the request goes out with the first write. */
export function http1Connect(inner: Stream, o: V2rayHttpOptions, serverHost: string): Stream {
  return new CodecStream(inner, new Identity(), new Http1ResponseDecoder(), {
    rawPrefix: encodeHttp1Request(o, pickHost(o.host, serverHost)),
  });
}

/**
 * Checks a request's host, path and method like sing-box's server. Returns the status to reject
 * with and why, or `null` when acceptable.
 */
export function checkHttpRequest(
  o: V2rayHttpOptions,
  method: string,
  path: string,
  host: string | undefined,
): { status: number; error: string } | null {
  if (o.host?.length && !o.host.includes(host ?? "")) return { status: 400, error: `bad host: ${host}` };
  if (!path.startsWith(normalPath(o.path))) return { status: 404, error: `bad path: ${path}` };
  if (o.method && method !== o.method) return { status: 404, error: `bad method: ${method}` };
  return null;
}

/**
 * Accepts an HTTP/1.1 tunnel request from `reader`, answering 200 (`Cache-Control: no-store` and
 * the configured headers) or the rejection status.
 *
 * @throws {ProtocolError} If the request is malformed or rejected.
 */
export async function http1Accept(
  inner: Stream,
  reader: HandshakeReader,
  o: V2rayHttpOptions,
): Promise<Stream> {
  const head = await reader.read(decodeRequestHead, "v2ray-http");
  const host = head.headers.find(([k]) => k.toLowerCase() === "host")?.[1];
  const path = head.target.split("?")[0];
  const bad = checkHttpRequest(o, head.method, path, host);
  if (bad) {
    await writeAll(
      inner,
      encodeResponse(bad.status, bad.status === 400 ? "Bad Request" : "Not Found", [[
        "Content-Length",
        "0",
      ]]),
    ).catch(() => {});
    throw new ProtocolError("v2ray-http", 0, bad.error);
  }
  await writeAll(
    inner,
    encodeResponse(200, "OK", [["Cache-Control", "no-store"], ...headerPairs(o.headers)]),
  );
  return withPrefix(inner, reader.rest());
}
