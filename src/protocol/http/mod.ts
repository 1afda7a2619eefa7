/**
 * HTTP proxy inbound and outbound registration.
 * @module
 */
import type { InboundRegistry, OutboundRegistry } from "../../adapter/registry.ts";
import { createHttpInbound, httpInboundSchema } from "./inbound.ts";
import { HttpOutbound, httpOutboundSchema } from "./outbound.ts";

/** Registers the `http` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "http", schema: httpInboundSchema, create: createHttpInbound });
}

/** Registers the `http` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({ type: "http", schema: httpOutboundSchema, create: (ctx, o) => new HttpOutbound(ctx, o) });
}
