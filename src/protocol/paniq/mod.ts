/**
 * paniq inbound and outbound registration (`{"type": "paniq"}`).
 * @module
 */
import type { InboundRegistry, OutboundRegistry } from "../../adapter/registry.ts";
import { PaniqInbound, paniqInboundSchema } from "./inbound.ts";
import { PaniqOutbound, paniqOutboundSchema } from "./outbound.ts";

/** Registers the `paniq` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "paniq", schema: paniqInboundSchema, create: (ctx, o) => new PaniqInbound(ctx, o) });
}

/** Registers the `paniq` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({ type: "paniq", schema: paniqOutboundSchema, create: (ctx, o) => new PaniqOutbound(ctx, o) });
}
