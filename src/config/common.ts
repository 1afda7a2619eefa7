/**
 * Building blocks for config schemas (zod v4): sing-box "Listable" fields, duration strings,
 * ports, and the listen/dial field groups shared by inbounds and outbounds
 * (spec sing-box.md §1.1, §1.2).
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";

/** A value or a list of values; always normalised to an array (sing-box `badoption.Listable`). */
export function listable<T extends z.ZodType>(item: T) {
  return z.union([z.array(item), item]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);
}

/** An integer in `lo..hi` with one clear message for every failure. */
export function intRange(lo: number, hi: number) {
  const error = `expected integer ${lo}..${hi}`;
  return z.number({ error }).int({ error }).min(lo, { error }).max(hi, { error });
}

/** A TCP/UDP port, 0..65535. */
export const port = intRange(0, 65535);

/** A Go duration string (`"5s"`) converted to milliseconds. */
export const duration = z.string({ error: 'expected duration string such as "5s"' }).transform(
  (text, ctx) => {
    try {
      return parseDuration(text);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
      return z.NEVER;
    }
  },
);

/** A user with name and password (socks/http/mixed inbounds). */
export const userSchema = z.strictObject({
  username: z.string(),
  password: z.string(),
});

/**
 * Listen fields shared by inbounds (sing-box `ListenOptions`). Fields that cannot work in this
 * runtime parse so configs stay portable; the inbound warns when they are set.
 */
export const listenFields = {
  listen: z.string().optional(),
  listen_port: port.optional(),
  bind_interface: z.string().optional(),
  routing_mark: z.union([z.number(), z.string()]).optional(),
  reuse_addr: z.boolean().optional(),
  netns: z.string().optional(),
  tcp_fast_open: z.boolean().optional(),
  tcp_multi_path: z.boolean().optional(),
  disable_tcp_keep_alive: z.boolean().optional(),
  tcp_keep_alive: duration.optional(),
  tcp_keep_alive_interval: duration.optional(),
  udp_fragment: z.boolean().optional(),
  udp_timeout: duration.optional(),
  detour: z.string().optional(),
  // Deprecated since 1.11 (replaced by rule actions); still accepted by 1.12.
  sniff: z.boolean().optional(),
  sniff_override_destination: z.boolean().optional(),
  sniff_timeout: duration.optional(),
  domain_strategy: z.string().optional(),
  udp_disable_domain_unmapping: z.boolean().optional(),
};

/** `domain_resolver` on dial fields: a server tag or an object (1.12). */
export const domainResolver = z.union([
  z.string(),
  z.strictObject({
    server: z.string(),
    strategy: z.enum(["prefer_ipv4", "prefer_ipv6", "ipv4_only", "ipv6_only", ""]).optional(),
    disable_cache: z.boolean().optional(),
    rewrite_ttl: z.number().int().optional(),
    client_subnet: z.string().optional(),
  }),
]);

/** Dial fields shared by dialing outbounds (sing-box `DialerOptions`). */
export const dialFields = {
  detour: z.string().optional(),
  bind_interface: z.string().optional(),
  inet4_bind_address: z.ipv4({ error: "expected IPv4 address" }).optional(),
  inet6_bind_address: z.ipv6({ error: "expected IPv6 address" }).optional(),
  bind_address_no_port: z.boolean().optional(),
  routing_mark: z.union([z.number(), z.string()]).optional(),
  reuse_addr: z.boolean().optional(),
  netns: z.string().optional(),
  connect_timeout: duration.optional(),
  tcp_fast_open: z.boolean().optional(),
  tcp_multi_path: z.boolean().optional(),
  disable_tcp_keep_alive: z.boolean().optional(),
  tcp_keep_alive: duration.optional(),
  tcp_keep_alive_interval: duration.optional(),
  udp_fragment: z.boolean().optional(),
  domain_resolver: domainResolver.optional(),
  domain_strategy: z.enum(["prefer_ipv4", "prefer_ipv6", "ipv4_only", "ipv6_only", ""]).optional(),
  network_strategy: z.string().optional(),
  network_type: listable(z.string()).optional(),
  fallback_network_type: listable(z.string()).optional(),
  fallback_delay: duration.optional(),
};

/** Parsed dial fields. */
export type DialFieldsOptions = z.output<z.ZodObject<typeof dialFields>>;
/** Parsed listen fields. */
export type ListenFieldsOptions = z.output<z.ZodObject<typeof listenFields>>;

/** Server address fields of proxy outbounds. */
export const serverFields = {
  server: z.string({ error: "expected server address" }),
  server_port: port,
};
