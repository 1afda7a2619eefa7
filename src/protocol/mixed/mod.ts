/**
 * Mixed (SOCKS + HTTP) inbound registration.
 * @module
 */
import type { InboundRegistry } from "../../adapter/registry.ts";
import { createMixedInbound, mixedInboundSchema } from "./inbound.ts";

/** Registers the `mixed` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "mixed", schema: mixedInboundSchema, create: createMixedInbound });
}
