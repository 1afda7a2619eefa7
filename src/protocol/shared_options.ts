/**
 * Option groups shared by the proxy protocols (shadowsocks, trojan, vmess, vless):
 * `multiplex{}` (sing-mux) and the `network` field.
 *
 * @module
 */
import { z } from "zod";
import type { Stream } from "../adapter/types.ts";
import { MuxClient } from "../transport/mux/client.ts";

const brutalOff = (m: { brutal?: Record<string, unknown> }) => !m.brutal?.enabled;

/**
 * Outbound `multiplex{}` (sing-mux). `smux` and `yamux` are supported; `h2mux` (sing-box's
 * default protocol) and TCP Brutal are refused when enabled.
 */
export const outboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  protocol: z.enum(["smux", "yamux", "h2mux"]).optional(),
  max_connections: z.number().int().min(0).optional(),
  min_streams: z.number().int().min(0).optional(),
  max_streams: z.number().int().min(0).optional(),
  padding: z.boolean().optional(),
  brutal: z.record(z.string(), z.unknown()).optional(),
}).refine((m) => !m.enabled || (m.protocol !== undefined && m.protocol !== "h2mux"), {
  error: "multiplex protocol h2mux (the default) is not supported by this build; set protocol smux or yamux",
  path: ["protocol"],
}).refine(brutalOff, { error: "multiplex.brutal is not supported by this build", path: ["brutal"] });

/** Parsed outbound `multiplex{}`. */
export type OutboundMultiplexOptions = z.output<typeof outboundMultiplexSchema>;

/** Inbound `multiplex{}` (sing-mux server: smux and yamux clients; `padding` rejects unpadded ones). */
export const inboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  padding: z.boolean().optional(),
  brutal: z.record(z.string(), z.unknown()).optional(),
}).refine(brutalOff, { error: "multiplex.brutal is not supported by this build", path: ["brutal"] });

/** The mux client for an outbound's `multiplex{}`, or `null` when disabled. */
export function muxClientFor(
  m: OutboundMultiplexOptions | undefined,
  connect: () => Promise<Stream>,
): MuxClient | null {
  if (!m?.enabled) return null;
  return new MuxClient({
    protocol: m.protocol as "smux" | "yamux",
    maxConnections: m.max_connections,
    minStreams: m.min_streams,
    maxStreams: m.max_streams,
    padding: m.padding,
  }, connect);
}

/** `network`: one of tcp/udp, absent for both. */
export const networkSchema = z.enum(["tcp", "udp"]).optional();

/** The networks an outbound serves for a `network` option. */
export function networks(n: "tcp" | "udp" | undefined): ("tcp" | "udp")[] {
  return n ? [n] : ["tcp", "udp"];
}
