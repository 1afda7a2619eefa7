/**
 * The `direct` outbound: dials the destination from this host (spec sing-box.md §1.2).
 * Dial fields (`detour`, `connect_timeout`, `inet4_bind_address`, `fallback_delay`,
 * `domain_strategy`) come from {@linkcode OutboundContext.dialer}.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
import type { Dialer, DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, port } from "../../config/common.ts";

/** Options of a `direct` outbound. */
export const directOutboundSchema = z.strictObject({
  type: z.literal("direct"),
  tag: z.string().optional(),
  ...dialFields,
  /** @deprecated since 1.11: use the `route-options` rule action. */
  override_address: z.string().optional(),
  /** @deprecated since 1.11: use the `route-options` rule action. */
  override_port: port.optional(),
});

/** Parsed options. */
export type DirectOutboundOptions = z.output<typeof directOutboundSchema>;

/** Dials destinations directly. */
export class DirectOutbound implements Outbound {
  readonly type = "direct";
  readonly tag: string;
  readonly network = ["tcp", "udp"] as const;
  readonly dependencies: string[];
  #dialer: Dialer;
  #options: DirectOutboundOptions;

  constructor(ctx: OutboundContext, options: DirectOutboundOptions) {
    this.tag = ctx.tag;
    this.#options = options;
    this.#dialer = ctx.dialer(options);
    this.dependencies = options.detour ? [options.detour] : [];
  }

  #target(destination: Socksaddr): Socksaddr {
    return {
      host: this.#options.override_address ?? destination.host,
      port: this.#options.override_port ?? destination.port,
    };
  }

  dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    return this.#dialer.dial(this.#target(destination), options);
  }

  listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    return this.#dialer.listenPacket(this.#target(destination), options);
  }
}
