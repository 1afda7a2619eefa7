/**
 * The `mixed` inbound: SOCKS4/4a/5 and HTTP proxy on one port, told apart by the first byte
 * (4 or 5 is SOCKS, anything else HTTP; spec sing-box.md §1.1).
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext } from "../../adapter/registry.ts";
import { listable, listenFields, userSchema } from "../../config/common.ts";
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import { DEFAULT_LISTEN, ListenerInbound, userTable } from "../../common/listener_inbound.ts";
import { serveHttp } from "../http/server.ts";
import { HANDSHAKE_TIMEOUT_MS, serveSocks } from "../socks/server.ts";
import { uotRouter } from "../uot/router.ts";

/** Options of a `mixed` inbound. */
export const mixedInboundSchema = z.strictObject({
  type: z.literal("mixed"),
  tag: z.string().optional(),
  ...listenFields,
  users: listable(userSchema).optional(),
  set_system_proxy: z.boolean().refine((v) => !v, {
    error: "set_system_proxy is not supported by this build",
  })
    .optional(),
});

/** Parsed options. */
export type MixedInboundOptions = z.output<typeof mixedInboundSchema>;

/** Creates a `mixed` inbound. */
export function createMixedInbound(ctx: InboundContext, options: MixedInboundOptions): ListenerInbound {
  const users = userTable(options.users);
  const base = {
    tag: ctx.tag,
    type: "mixed",
    router: uotRouter(ctx.router, ctx.logger),
    logger: ctx.logger,
    users,
  };
  const socks = { ...base, udpHostname: options.listen ?? DEFAULT_LISTEN };
  return new ListenerInbound("mixed", ctx, options, async (conn) => {
    const reader = new HandshakeReader(conn);
    const first = await withDeadline(conn, HANDSHAKE_TIMEOUT_MS, () => reader.peek(1));
    if (first.length === 0) {
      conn.close();
      return;
    }
    if (first[0] === 4 || first[0] === 5) await serveSocks(conn, reader, socks);
    else await serveHttp(conn, reader, base);
  });
}
