/**
 * SOCKS4/4a/5 inbound and outbound registration.
 * @module
 */
import type { InboundRegistry, OutboundRegistry } from "../../adapter/registry.ts";
import { createSocksInbound, socksInboundSchema } from "./inbound.ts";
import { SocksOutbound, socksOutboundSchema } from "./outbound.ts";

/** Registers the `socks` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "socks", schema: socksInboundSchema, create: createSocksInbound });
}

/** Registers the `socks` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({ type: "socks", schema: socksOutboundSchema, create: (ctx, o) => new SocksOutbound(ctx, o) });
}
