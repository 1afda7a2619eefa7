/**
 * Option groups shared by the proxy protocols (shadowsocks, trojan, vmess, vless):
 * `multiplex{}` (sing-mux) and the `network` field.
 *
 * @module
 */
import { z } from "zod";

/** Outbound `multiplex{}`; parsed, refused when enabled (sing-mux is not in this build yet). */
export const outboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  protocol: z.enum(["smux", "yamux", "h2mux"]).optional(),
  max_connections: z.number().int().optional(),
  min_streams: z.number().int().optional(),
  max_streams: z.number().int().optional(),
  padding: z.boolean().optional(),
  brutal: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => !m.enabled, { error: "multiplex is not supported by this build" });

/** Inbound `multiplex{}`. */
export const inboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  padding: z.boolean().optional(),
  brutal: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => !m.enabled, { error: "multiplex is not supported by this build" });

/** `network`: one of tcp/udp, absent for both. */
export const networkSchema = z.enum(["tcp", "udp"]).optional();

/** The networks an outbound serves for a `network` option. */
export function networks(n: "tcp" | "udp" | undefined): ("tcp" | "udp")[] {
  return n ? [n] : ["tcp", "udp"];
}
