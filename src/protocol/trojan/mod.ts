/**
 * `trojan` inbound and outbound registration.
 * @module
 */
export { registerInbound } from "./inbound.ts";
export { registerOutbound } from "./outbound.ts";
