/**
 * URLTest outbound registration.
 * @module
 */
import type { OutboundRegistry } from "../../adapter/registry.ts";
import { UrltestOutbound, urltestOutboundSchema } from "./outbound.ts";

export { UrltestOutbound } from "./outbound.ts";

/** Registers the `urltest` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({
    type: "urltest",
    schema: urltestOutboundSchema,
    create: (ctx, o) => new UrltestOutbound(ctx, o),
  });
}
