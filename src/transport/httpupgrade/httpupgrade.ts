/**
 * The V2Ray `httpupgrade` transport: an HTTP/1.1 `Upgrade: websocket` request answered with
 * `101 Switching Protocols`, after which the connection carries raw bytes (no framing).
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { HandshakeReader } from "../../common/handshake_reader.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import {
  decodeRequestHead,
  decodeResponseHead,
  encodeRequestHead,
  encodeResponse,
  getHeader,
  type Header,
} from "../../protocol/http/codec.ts";

/** Client settings. */
export interface HttpUpgradeClientOptions {
  host: string;
  path: string;
  headers?: Record<string, string | string[]>;
}

/** Performs the upgrade as a client and returns the raw stream. */
export async function httpUpgradeConnect(inner: Stream, o: HttpUpgradeClientOptions): Promise<Stream> {
  let path = o.path || "/";
  if (!path.startsWith("/")) path = "/" + path;
  const extra: Header[] = [];
  let host = o.host;
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (k.toLowerCase() === "host") host = x;
      else extra.push([k, x]);
    }
  }
  await writeAll(
    inner,
    encodeRequestHead({
      method: "GET",
      target: path,
      version: "HTTP/1.1",
      headers: [["Host", host], ["Connection", "Upgrade"], ["Upgrade", "websocket"], ...extra],
    }),
  );
  const q = new ByteQueue(8192);
  for (;;) {
    const r = decodeResponseHead(q.peek());
    if (r) {
      if (r.value.status !== 101) {
        throw new ProtocolError("httpupgrade", 9, `server answered ${r.value.status}`);
      }
      q.consume(r.length);
      return withPrefix(inner, q.peek().slice());
    }
    const n = await inner.read(q.reserve(4096));
    if (n === null) throw new ProtocolError("httpupgrade", q.length, "connection closed during handshake");
    q.commit(n);
  }
}

/**
 * Accepts the upgrade as a server. On a bad request it answers 404/400 and throws.
 *
 * @throws {ProtocolError} If the request is not a matching upgrade.
 */
export async function httpUpgradeAccept(
  inner: Stream,
  reader: HandshakeReader,
  o: { path: string; host?: string },
): Promise<Stream> {
  const head = await reader.read(decodeRequestHead, "httpupgrade");
  const path = o.path || "/";
  const reject = async (status: number, why: string): Promise<never> => {
    await writeAll(
      inner,
      encodeResponse(status, status === 404 ? "Not Found" : "Bad Request", [["Content-Length", "0"]]),
    )
      .catch(() => {});
    throw new ProtocolError("httpupgrade", 0, why);
  };
  if (head.target !== path) return await reject(404, `bad path "${head.target}"`);
  if (o.host && getHeader(head.headers, "host") !== o.host) return await reject(404, "bad host");
  if (getHeader(head.headers, "upgrade")?.toLowerCase() !== "websocket") {
    return await reject(400, "not an upgrade");
  }
  await writeAll(
    inner,
    encodeResponse(101, "Switching Protocols", [["Connection", "Upgrade"], ["Upgrade", "websocket"]]),
  );
  return withPrefix(inner, reader.rest());
}
