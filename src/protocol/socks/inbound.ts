/**
 * The `socks` inbound: SOCKS4, SOCKS4a and SOCKS5 with RFC 1929 users and UDP ASSOCIATE
 * (spec sing-box.md §1.1).
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext } from "../../adapter/registry.ts";
import { listable, listenFields, userSchema } from "../../config/common.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import { DEFAULT_LISTEN, ListenerInbound, userTable } from "../../common/listener_inbound.ts";
import { serveSocks } from "./server.ts";
import { uotRouter } from "../uot/router.ts";

/** Options of a `socks` inbound. */
export const socksInboundSchema = z.strictObject({
  type: z.literal("socks"),
  tag: z.string().optional(),
  ...listenFields,
  users: listable(userSchema).optional(),
});

/** Parsed options. */
export type SocksInboundOptions = z.output<typeof socksInboundSchema>;

/** Creates a `socks` inbound. */
export function createSocksInbound(ctx: InboundContext, options: SocksInboundOptions): ListenerInbound {
  const users = userTable(options.users);
  const server = {
    tag: ctx.tag,
    type: "socks",
    router: uotRouter(ctx.router, ctx.logger),
    logger: ctx.logger,
    users,
    udpHostname: options.listen ?? DEFAULT_LISTEN,
  };
  return new ListenerInbound(
    "socks",
    ctx,
    options,
    (conn) => serveSocks(conn, new HandshakeReader(conn, 1024), server),
  );
}
