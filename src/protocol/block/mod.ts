/**
 * Block outbound registration.
 * @module
 */
import type { OutboundRegistry } from "../../adapter/registry.ts";
import { BlockOutbound, blockOutboundSchema } from "./outbound.ts";

/** Registers the `block` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({ type: "block", schema: blockOutboundSchema, create: (ctx) => new BlockOutbound(ctx) });
}
