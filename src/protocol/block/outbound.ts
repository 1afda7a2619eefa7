/**
 * The `block` outbound: refuses every connection (deprecated since 1.11 in favour of the
 * `reject` action, still accepted by 1.12; spec sing-box.md §1.2).
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
import {
  type Outbound,
  type PacketConn,
  RejectedError,
  type Socksaddr,
  type Stream,
} from "../../adapter/types.ts";
import { formatAddr } from "../../common/socks_addr.ts";

/** Options of a `block` outbound. */
export const blockOutboundSchema = z.strictObject({
  type: z.literal("block"),
  tag: z.string().optional(),
});

/** Refuses all connections with {@linkcode RejectedError}. */
export class BlockOutbound implements Outbound {
  readonly type = "block";
  readonly tag: string;
  readonly network = ["tcp", "udp"] as const;

  constructor(ctx: OutboundContext) {
    this.tag = ctx.tag;
  }

  dial(destination: Socksaddr): Promise<Stream> {
    return Promise.reject(
      new RejectedError(`Connection to "${formatAddr(destination)}" blocked by outbound "${this.tag}"`),
    );
  }

  listenPacket(destination: Socksaddr): Promise<PacketConn> {
    return Promise.reject(
      new RejectedError(`Packets to "${formatAddr(destination)}" blocked by outbound "${this.tag}"`),
    );
  }
}
