/**
 * Selector outbound registration.
 * @module
 */
import type { OutboundRegistry } from "../../adapter/registry.ts";
import { SelectorOutbound, selectorOutboundSchema } from "./outbound.ts";

export { SelectorOutbound } from "./outbound.ts";

/** Registers the `selector` outbound. */
export function registerOutbound(r: OutboundRegistry): void {
  r.register({
    type: "selector",
    schema: selectorOutboundSchema,
    create: (ctx, o) => new SelectorOutbound(ctx, o),
  });
}
