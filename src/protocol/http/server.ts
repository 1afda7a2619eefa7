/**
 * Serves one HTTP proxy client connection: `CONNECT host:port` tunnels and plain requests
 * in absolute-form, with optional Basic authentication (407 when missing or wrong). A plain
 * request is rewritten to origin-form without proxy and hop-by-hop headers and sent with
 * `Connection: close`, then the rest of the connection is relayed as is. Shared by the
 * `http` and `mixed` inbounds.
 *
 * @module
 */
import { type ConnectionRouter, type Metadata, RejectedError } from "../../adapter/types.ts";
import { errorMessage, ProtocolError } from "../../common/errors.ts";
import { type HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import {
  decodeBasicAuth,
  decodeRequestHead,
  encodeRequestHead,
  encodeResponse,
  getHeader,
  type Header,
  HOP_BY_HOP,
  parseAbsoluteTarget,
  parseAuthority,
  type RequestHead,
} from "./codec.ts";

/** What the HTTP proxy server needs from its inbound. */
export interface HttpServerContext {
  tag: string;
  type: string;
  router: ConnectionRouter;
  logger: Logger;
  users: ReadonlyMap<string, string>;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function reply(conn: Deno.Conn, status: number, reason: string, headers: Header[] = []): Promise<void> {
  await writeAll(
    conn,
    encodeResponse(status, reason, [...headers, ["Content-Length", "0"], ["Connection", "close"]]),
  )
    .catch(() => {});
}

function failureStatus(e: Error): [number, string] {
  if (e instanceof RejectedError) return [403, "Forbidden"];
  if (e.name === "TimeoutError") return [504, "Gateway Timeout"];
  return [502, "Bad Gateway"];
}

function authenticate(head: RequestHead, users: ReadonlyMap<string, string>): string | undefined | false {
  if (users.size === 0) return undefined;
  const cred = decodeBasicAuth(getHeader(head.headers, "Proxy-Authorization"));
  if (!cred || users.get(cred.username) !== cred.password) return false;
  return cred.username;
}

/** Serves one HTTP proxy connection. Protocol errors get a 400 reply. */
export async function serveHttp(
  conn: Deno.Conn,
  reader: HandshakeReader,
  ctx: HttpServerContext,
): Promise<void> {
  let head: RequestHead;
  try {
    head = await withDeadline(
      conn,
      ctx.handshakeTimeoutMs ?? 10_000,
      () => reader.read(decodeRequestHead, "http"),
    );
  } catch (e) {
    if (e instanceof ProtocolError && !/closed during handshake/.test(e.message)) {
      await reply(conn, 400, "Bad Request");
    }
    conn.close();
    throw e;
  }
  const user = authenticate(head, ctx.users);
  if (user === false) {
    ctx.logger.warn(`http: authentication failed from ${(conn.remoteAddr as Deno.NetAddr).hostname}`);
    await reply(conn, 407, "Proxy Authentication Required", [[
      "Proxy-Authenticate",
      'Basic realm="switchyard"',
    ]]);
    conn.close();
    return;
  }
  const remote = conn.remoteAddr as Deno.NetAddr;
  const base = {
    inbound: ctx.tag,
    inboundType: ctx.type,
    network: "tcp" as const,
    source: { host: remote.hostname, port: remote.port },
    user,
  };
  const onFailure = async (e: Error) => {
    const [status, reason] = failureStatus(e);
    ctx.logger.debug(`http: ${status} for ${head.target}: ${errorMessage(e)}`);
    await reply(conn, status, reason);
  };
  if (head.method === "CONNECT") {
    let destination;
    try {
      destination = parseAuthority(head.target);
    } catch {
      await reply(conn, 400, "Bad Request");
      conn.close();
      return;
    }
    const metadata: Metadata = { ...base, destination };
    await ctx.router.routeConnection(withPrefix(conn, reader.rest()), metadata, {
      onSuccess: () => writeAll(conn, encodeResponse(200, "Connection established")),
      onFailure,
    });
    return;
  }
  let target;
  try {
    target = parseAbsoluteTarget(head.target);
  } catch {
    await reply(conn, 400, "Bad Request");
    conn.close();
    return;
  }
  const headers: Header[] = head.headers.filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase()));
  if (!getHeader(headers, "Host")) headers.unshift(["Host", target.host]);
  headers.push(["Connection", "close"]);
  const forwarded = encodeRequestHead({
    method: head.method,
    target: target.path,
    version: head.version,
    headers,
  });
  await ctx.router.routeConnection(withPrefix(conn, concat(forwarded, reader.rest())), {
    ...base,
    destination: target.destination,
  }, { onFailure });
}
