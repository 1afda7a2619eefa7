/**
 * `trojan` inbound and outbound registration.
 * @module
 */
export { registerOutbound } from "./outbound.ts";
