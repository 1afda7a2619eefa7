/**
 * Serves one SOCKS4/4a/5 client connection (RFC 1928, RFC 1929): handshake with a deadline,
 * then hands CONNECT to the router with hooks that write the reply once the outbound is up,
 * and UDP ASSOCIATE as a packet connection bound to the control connection's lifetime.
 * Shared by the `socks` and `mixed` inbounds.
 *
 * @module
 */
import type { ConnectionRouter, Metadata } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import * as s4 from "./socks4.ts";
import * as s5 from "./socks5.ts";
import { UdpAssociation } from "./udp_association.ts";

/** Default deadline for a client to finish its handshake, ms. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What the SOCKS server needs from its inbound. */
export interface SocksServerContext {
  tag: string;
  type: string;
  router: ConnectionRouter;
  logger: Logger;
  /** Accepted users; empty means no authentication. */
  users: ReadonlyMap<string, string>;
  /** Address UDP relay sockets bind to. */
  udpHostname: string;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
}

function sourceOf(conn: Deno.Conn): { host: string; port: number } {
  const a = conn.remoteAddr as Deno.NetAddr;
  return { host: a.hostname, port: a.port };
}

/**
 * Serves a connection whose first byte is 4 or 5. `reader` may already hold peeked bytes.
 * Resolves when the connection is finished; protocol errors close the connection.
 */
export async function serveSocks(
  conn: Deno.Conn,
  reader: HandshakeReader,
  ctx: SocksServerContext,
): Promise<void> {
  const first = (await reader.peek(1))[0];
  if (first === s4.VERSION4) return await serveSocks4(conn, reader, ctx);
  if (first === s5.VERSION5) return await serveSocks5(conn, reader, ctx);
  conn.close();
  if (first !== undefined) throw new ProtocolError("socks", 0, `unsupported version ${first}`);
}

async function serveSocks4(conn: Deno.Conn, reader: HandshakeReader, ctx: SocksServerContext): Promise<void> {
  const req = await withDeadline(
    conn,
    ctx.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    () => reader.read(s4.decodeSocks4Request, "socks4"),
  );
  if (req.command !== s4.CD_CONNECT || (ctx.users.size > 0 && !ctx.users.has(req.userId))) {
    await writeAll(conn, s4.encodeSocks4Reply(false)).catch(() => {});
    conn.close();
    return;
  }
  const metadata: Metadata = {
    inbound: ctx.tag,
    inboundType: ctx.type,
    network: "tcp",
    source: sourceOf(conn),
    destination: req.destination,
    user: ctx.users.size > 0 ? req.userId : undefined,
  };
  await ctx.router.routeConnection(withPrefix(conn, reader.rest()), metadata, {
    onSuccess: () => writeAll(conn, s4.encodeSocks4Reply(true)),
    onFailure: () => writeAll(conn, s4.encodeSocks4Reply(false)),
  });
}

async function handshake5(
  conn: Deno.Conn,
  reader: HandshakeReader,
  ctx: SocksServerContext,
): Promise<{ request: s5.Message; user?: string } | null> {
  const { methods } = await reader.read(s5.decodeGreeting, "socks5");
  let user: string | undefined;
  if (ctx.users.size > 0) {
    if (!methods.includes(s5.METHOD_USERPASS)) {
      await writeAll(conn, s5.encodeMethodSelection(s5.METHOD_NO_ACCEPTABLE));
      return null;
    }
    await writeAll(conn, s5.encodeMethodSelection(s5.METHOD_USERPASS));
    const cred = await reader.read(s5.decodeUserPassRequest, "socks5-auth");
    const ok = ctx.users.get(cred.username) === cred.password;
    await writeAll(conn, s5.encodeUserPassReply(ok));
    if (!ok) {
      ctx.logger.warn(`socks5: authentication failed for user "${cred.username}"`);
      return null;
    }
    user = cred.username;
  } else if (methods.includes(s5.METHOD_NO_AUTH)) {
    await writeAll(conn, s5.encodeMethodSelection(s5.METHOD_NO_AUTH));
  } else {
    await writeAll(conn, s5.encodeMethodSelection(s5.METHOD_NO_ACCEPTABLE));
    return null;
  }
  const request = await reader.read(s5.decodeRequest, "socks5");
  return { request, user };
}

async function serveSocks5(conn: Deno.Conn, reader: HandshakeReader, ctx: SocksServerContext): Promise<void> {
  const hs = await withDeadline(
    conn,
    ctx.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    () => handshake5(conn, reader, ctx),
  );
  if (!hs) {
    conn.close();
    return;
  }
  const { request, user } = hs;
  const base = { inbound: ctx.tag, inboundType: ctx.type, source: sourceOf(conn), user };
  if (request.code === s5.CMD_CONNECT) {
    const local = conn.localAddr as Deno.NetAddr;
    await ctx.router.routeConnection(withPrefix(conn, reader.rest()), {
      ...base,
      network: "tcp",
      destination: request.address,
    }, {
      onSuccess: () =>
        writeAll(conn, s5.encodeReply(s5.REP_SUCCEEDED, { host: local.hostname, port: local.port })),
      onFailure: (e) => writeAll(conn, s5.encodeReply(s5.replyCodeFor(e))),
    });
    return;
  }
  if (request.code === s5.CMD_UDP_ASSOCIATE) return await serveUdpAssociate(conn, ctx, base);
  await writeAll(conn, s5.encodeReply(s5.REP_COMMAND_NOT_SUPPORTED)).catch(() => {});
  conn.close();
}

async function serveUdpAssociate(
  conn: Deno.Conn,
  ctx: SocksServerContext,
  base: Omit<Metadata, "network" | "destination">,
): Promise<void> {
  const local = conn.localAddr as Deno.NetAddr;
  const assoc = new UdpAssociation(ctx.udpHostname, base.source.host);
  const bound = assoc.localAddr;
  const announce = bound.hostname === "0.0.0.0" || bound.hostname === "::" ? local.hostname : bound.hostname;
  try {
    await writeAll(conn, s5.encodeReply(s5.REP_SUCCEEDED, { host: announce, port: bound.port }));
  } catch (e) {
    assoc.close();
    throw e;
  }
  // The association ends when the client closes the control connection (RFC 1928 §7).
  const watch = (async () => {
    const buf = new Uint8Array(256);
    try {
      while (await conn.read(buf) !== null) { /* ignore */ }
    } catch { /* closed */ }
    assoc.close();
  })();
  try {
    const first = await assoc.peek();
    if (first) {
      await ctx.router.routePacketConnection(assoc, { ...base, network: "udp", destination: first.addr });
    }
  } finally {
    assoc.close();
    try {
      conn.close();
    } catch { /* closed */ }
    await watch;
  }
}
