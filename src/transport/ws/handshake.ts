/**
 * WebSocket opening handshake for the V2Ray `ws` transport (RFC 6455 §4), with sing-box/Xray
 * early data: the first `max_early_data` bytes travel base64url-encoded in the request path
 * (appended to `path`) or in the header named by `early_data_header_name`.
 *
 * @module
 */
import { sha1 } from "@noble/hashes/legacy.js";
import type { Stream } from "../../adapter/types.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { HandshakeReader } from "../../common/handshake_reader.ts";
import { writeAll } from "../../common/prefixed_stream.ts";
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeRequestHead,
  encodeResponse,
  getHeader,
  type Header,
  type RequestHead,
} from "../../protocol/http/codec.ts";
import { WsFrameDecoder, WsFrameEncoder } from "./frame.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** `Sec-WebSocket-Accept` for a key. */
export function acceptKey(key: string): string {
  return b64(sha1(new TextEncoder().encode(key + GUID)));
}

function b64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

/** base64url without padding (Go `base64.RawURLEncoding`). */
export function b64url(b: Uint8Array): string {
  return b64(b).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes base64url with or without padding; `null` if malformed. */
export function unb64url(s: string): Uint8Array | null {
  try {
    const t = s.replaceAll("-", "+").replaceAll("_", "/");
    return Uint8Array.from(atob(t + "=".repeat((4 - t.length % 4) % 4)), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Client settings. */
export interface WsClientOptions {
  host: string;
  path: string;
  headers?: Record<string, string | string[]>;
  maxEarlyData?: number;
  earlyDataHeaderName?: string;
}

function headerList(h: Record<string, string | string[]> | undefined, skipHost: boolean): Header[] {
  const out: Header[] = [];
  for (const [k, v] of Object.entries(h ?? {})) {
    if (skipHost && k.toLowerCase() === "host") continue;
    for (const x of Array.isArray(v) ? v : [v]) out.push([k, x]);
  }
  return out;
}

/** Upgrades `inner` to a WebSocket stream, sending `early` bytes inside the handshake. */
export async function wsConnect(inner: Stream, o: WsClientOptions, early?: Uint8Array): Promise<Stream> {
  const key = b64(crypto.getRandomValues(new Uint8Array(16)));
  const hostHeader = Object.entries(o.headers ?? {}).find(([k]) => k.toLowerCase() === "host")?.[1];
  const host = (Array.isArray(hostHeader) ? hostHeader[0] : hostHeader) ?? o.host;
  let path = o.path || "/";
  if (!path.startsWith("/")) path = "/" + path;
  const headers: Header[] = [
    ["Host", host],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", key],
    ["Sec-WebSocket-Version", "13"],
    ...headerList(o.headers, true),
  ];
  if (early?.length) {
    if (o.earlyDataHeaderName) headers.push([o.earlyDataHeaderName, b64url(early)]);
    else path += b64url(early);
  }
  await writeAll(inner, encodeRequestHead({ method: "GET", target: path, version: "HTTP/1.1", headers }));
  const q = new ByteQueue(64 * 1024);
  for (;;) {
    const r = decodeResponseHead(q.peek());
    if (r) {
      if (r.value.status !== 101) {
        throw new ProtocolError("websocket", 9, `server answered ${r.value.status}`);
      }
      if (getHeader(r.value.headers, "sec-websocket-accept") !== acceptKey(key)) {
        throw new ProtocolError("websocket", 0, "bad Sec-WebSocket-Accept");
      }
      q.consume(r.length);
      break;
    }
    const n = await inner.read(q.reserve(4096));
    if (n === null) throw new ProtocolError("websocket", q.length, "connection closed during handshake");
    q.commit(n);
  }
  return new CodecStream(inner, new WsFrameEncoder(true), new WsFrameDecoder(false), { queue: q });
}

/** A client stream that waits for the first write to carry early data in the handshake. */
export class WsEarlyDataStream implements Stream {
  #inner: Stream;
  #o: WsClientOptions;
  #ws: Promise<Stream> | null = null;
  constructor(inner: Stream, o: WsClientOptions) {
    this.#inner = inner;
    this.#o = o;
  }
  #open(early?: Uint8Array): Promise<Stream> {
    return this.#ws ??= wsConnect(this.#inner, this.#o, early);
  }
  async read(p: Uint8Array): Promise<number | null> {
    return (await this.#open()).read(p);
  }
  async write(p: Uint8Array): Promise<number> {
    if (this.#ws) return (await this.#ws).write(p);
    const max = this.#o.maxEarlyData ?? 0;
    const ws = await this.#open(p.subarray(0, max));
    if (p.length > max) await writeAll(ws, p.subarray(max));
    return p.length;
  }
  async closeWrite(): Promise<void> {
    await (await this.#open()).closeWrite();
  }
  close(): void {
    this.#inner.close();
  }
}

/** Opens the client side: immediate handshake, or deferred when early data is enabled. */
export function wsClient(inner: Stream, o: WsClientOptions): Promise<Stream> | Stream {
  return (o.maxEarlyData ?? 0) > 0 ? new WsEarlyDataStream(inner, o) : wsConnect(inner, o);
}

/** Server settings. */
export interface WsServerOptions {
  path: string;
  maxEarlyData?: number;
  earlyDataHeaderName?: string;
}

/**
 * Accepts the upgrade on the server side. On a bad request it answers 404/400 and throws.
 *
 * @throws {ProtocolError} If the request is not a matching WebSocket upgrade.
 */
export async function wsAccept(inner: Stream, reader: HandshakeReader, o: WsServerOptions): Promise<Stream> {
  const head: RequestHead = await reader.read(decodeRequestHead, "websocket");
  const path = o.path || "/";
  const target = head.target;
  let early: Uint8Array | null = null;
  const fail = async (status: number, why: string): Promise<never> => {
    await writeAll(
      inner,
      encodeResponse(status, status === 404 ? "Not Found" : "Bad Request", [["Content-Length", "0"]]),
    )
      .catch(() => {});
    throw new ProtocolError("websocket", 0, why);
  };
  if ((o.maxEarlyData ?? 0) > 0 && !o.earlyDataHeaderName) {
    if (!target.startsWith(path)) return await fail(404, `bad path "${target}"`);
    const rest = target.slice(path.length);
    if (rest) {
      early = unb64url(rest);
      if (!early) return await fail(400, "bad early data");
    }
  } else {
    if (target !== path) return await fail(404, `bad path "${target}"`);
    if (o.earlyDataHeaderName) {
      const v = getHeader(head.headers, o.earlyDataHeaderName);
      if (v) {
        early = unb64url(v);
        if (!early) return await fail(400, "bad early data");
      }
    }
  }
  const key = getHeader(head.headers, "sec-websocket-key");
  if (head.method !== "GET" || !key || getHeader(head.headers, "upgrade")?.toLowerCase() !== "websocket") {
    return await fail(400, "not a websocket upgrade");
  }
  const resp: Header[] = [["Upgrade", "websocket"], ["Connection", "Upgrade"], [
    "Sec-WebSocket-Accept",
    acceptKey(key),
  ]];
  const proto = getHeader(head.headers, "sec-websocket-protocol");
  if (proto && o.earlyDataHeaderName?.toLowerCase() === "sec-websocket-protocol") {
    resp.push(["Sec-WebSocket-Protocol", proto]);
  }
  await writeAll(inner, encodeResponse(101, "Switching Protocols", resp));
  const q = new ByteQueue(256 * 1024);
  q.push(reader.rest());
  return new CodecStream(inner, new WsFrameEncoder(false), new WsFrameDecoder(true), {
    queue: q,
    pending: early ?? undefined,
  });
}
