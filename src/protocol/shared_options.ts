/**
 * Option groups shared by the proxy protocols (shadowsocks, trojan, vmess, vless):
 * `multiplex{}` (sing-mux) and the `network` field.
 *
 * @module
 */
import { z } from "zod";
import type { Stream } from "../adapter/types.ts";
import { MuxClient } from "../transport/mux/client.ts";

/** `multiplex.brutal{}` (sing-mux TCP Brutal): parsed so configs load, refused when enabled. */
const brutalSchema = z.strictObject({
  enabled: z.boolean().optional(),
  up_mbps: z.number().int().min(0).optional(),
  down_mbps: z.number().int().min(0).optional(),
}).refine((b) => !b.enabled, {
  error: "TCP Brutal needs the Linux tcp_brutal kernel module and per-socket options this build " +
    "cannot set; remove brutal or set enabled false",
});

/**
 * Outbound `multiplex{}` (sing-mux): `smux`, `yamux` or `h2mux` (the default), pool limits and
 * padding. `brutal` is refused when enabled (see `brutalSchema`).
 */
export const outboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  protocol: z.enum(["smux", "yamux", "h2mux"], { error: "expected multiplex protocol smux, yamux or h2mux" })
    .optional(),
  max_connections: z.number().int().min(0).optional(),
  min_streams: z.number().int().min(0).optional(),
  max_streams: z.number().int().min(0).optional(),
  padding: z.boolean().optional(),
  brutal: brutalSchema.optional(),
});

/** Inbound `multiplex{}` (sing-mux server for smux, yamux and h2mux clients; `padding` rejects unpadded ones). */
export const inboundMultiplexSchema = z.strictObject({
  enabled: z.boolean().optional(),
  padding: z.boolean().optional(),
  brutal: brutalSchema.optional(),
});

/** Parsed outbound `multiplex{}`. */
export type OutboundMultiplexOptions = z.output<typeof outboundMultiplexSchema>;

/** The mux client for an outbound's `multiplex{}`, or `null` when disabled. */
export function muxClientFor(
  m: OutboundMultiplexOptions | undefined,
  connect: () => Promise<Stream>,
): MuxClient | null {
  if (!m?.enabled) return null;
  return new MuxClient({
    protocol: m.protocol ?? "h2mux",
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
