/**
 * Direct inbound (port forward) and outbound registration.
 * @module
 */
import type { InboundRegistry, OutboundRegistry } from "../../adapter/registry.ts";
import { DirectInbound, directInboundSchema } from "./inbound.ts";
import { DirectOutbound, directOutboundSchema } from "./outbound.ts";

/** Registers the `direct` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "direct", schema: directInboundSchema, create: (ctx, o) => new DirectInbound(ctx, o) });
}

/** Registers the `direct` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({
    type: "direct",
    schema: directOutboundSchema,
    create: (ctx, o) => new DirectOutbound(ctx, o),
  });
}
