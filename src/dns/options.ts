/**
 * Schema of the `dns` section (spec sing-box.md §4, §3.3): typed servers (1.12), legacy
 * `address` servers, DNS rules (default and logical) with the `route`, `route-options`,
 * `reject` and `predefined` actions, and the client switches. Key names are sing-box 1.12's.
 *
 * @module
 */
import { z } from "zod";
import { dialFields, duration, listable, port } from "../config/common.ts";
import { ruleMatchFields } from "../config/route.ts";
import { outboundTlsSchema as tlsClientSchema } from "../transport/tls/config.ts";

/** A domain strategy; `""` means as is. */
export const domainStrategy = z.enum(["", "prefer_ipv4", "prefer_ipv6", "ipv4_only", "ipv6_only"], {
  error: 'expected "prefer_ipv4", "prefer_ipv6", "ipv4_only" or "ipv6_only"',
});

const prefixable = z.string().refine((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s), {
  error: "expected IP address or prefix",
});

const dialOnly = { ...dialFields };

const serverBase = { tag: z.string({ error: "expected server tag" }) };

const remote = {
  ...serverBase,
  ...dialOnly,
  server: z.string({ error: "expected server address" }),
  server_port: port.optional(),
};

/** `type: "local"`. */
export const localServerSchema = z.strictObject({ type: z.literal("local"), ...serverBase, ...dialOnly });
/** `type: "hosts"`. */
export const hostsServerSchema = z.strictObject({
  type: z.literal("hosts"),
  ...serverBase,
  path: listable(z.string()).optional(),
  predefined: z.record(z.string(), listable(z.string())).optional(),
});
/** `type: "udp"` and `type: "tcp"`. */
export const plainServerSchema = z.strictObject({ type: z.enum(["udp", "tcp"]), ...remote });
/** `type: "tls"` and `type: "quic"`. */
export const tlsServerSchema = z.strictObject({
  type: z.enum(["tls", "quic"]),
  ...remote,
  tls: tlsClientSchema.optional(),
});
/** `type: "https"` and `type: "h3"`. */
export const httpsServerSchema = z.strictObject({
  type: z.enum(["https", "h3"]),
  ...remote,
  path: z.string().optional(),
  method: z.enum(["GET", "POST"]).optional(),
  headers: z.record(z.string(), listable(z.string())).optional(),
  tls: tlsClientSchema.optional(),
});
/** `type: "dhcp"`. */
export const dhcpServerSchema = z.strictObject({
  type: z.literal("dhcp"),
  ...serverBase,
  ...dialOnly,
  interface: z.string().optional(),
});
/** `type: "fakeip"`. */
export const fakeipServerSchema = z.strictObject({
  type: z.literal("fakeip"),
  ...serverBase,
  inet4_range: prefixable.optional(),
  inet6_range: prefixable.optional(),
});
/** `type: "tailscale"` / `type: "resolved"` (parsed; not available in this build). */
export const platformServerSchema = z.strictObject({
  type: z.enum(["tailscale", "resolved"]),
  ...serverBase,
  endpoint: z.string().optional(),
  service: z.string().optional(),
  accept_default_resolvers: z.boolean().optional(),
});
/** A legacy server (no `type`): an `address` URL, deprecated in 1.12. */
export const legacyServerSchema = z.strictObject({
  type: z.literal("").optional(),
  tag: z.string().optional(),
  address: z.string({ error: "expected address" }),
  address_resolver: z.string().optional(),
  address_strategy: domainStrategy.optional(),
  address_fallback_delay: duration.optional(),
  strategy: domainStrategy.optional(),
  detour: z.string().optional(),
  client_subnet: prefixable.optional(),
});

/** One entry of `dns.servers`. */
export const dnsServerSchema = z.union([
  localServerSchema,
  hostsServerSchema,
  plainServerSchema,
  tlsServerSchema,
  httpsServerSchema,
  dhcpServerSchema,
  fakeipServerSchema,
  platformServerSchema,
  legacyServerSchema,
]);

/** Parsed DNS server options. */
export type DnsServerOptions = z.output<typeof dnsServerSchema>;

const queryType = z.union([z.string(), z.number().int().min(0).max(65535)]);

const { client: _client, ...routeKeysWithoutClient } = ruleMatchFields;

/** Match keys of a DNS rule: the route keys minus `client`, plus the DNS-only ones. */
export const dnsRuleMatchFields = {
  ...routeKeysWithoutClient,
  query_type: listable(queryType).optional(),
  ip_accept_any: z.boolean().optional(),
  rule_set_ip_cidr_accept_empty: z.boolean().optional(),
  /** Deprecated in 1.12 (use `domain_resolver`); matches the outbound that asked. */
  outbound: listable(z.string()).optional(),
};

/** Action fields of a DNS rule. */
export const dnsRuleActionFields = {
  action: z.enum(["route", "route-options", "reject", "predefined"], {
    error: 'expected one of "route", "route-options", "reject", "predefined"',
  }).optional(),
  server: z.string().optional(),
  strategy: domainStrategy.optional(),
  disable_cache: z.boolean().optional(),
  rewrite_ttl: z.number().int().min(0).optional(),
  client_subnet: prefixable.optional(),
  method: z.enum(["default", "drop"]).optional(),
  no_drop: z.boolean().optional(),
  rcode: z.enum(["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]).optional(),
  answer: listable(z.string()).optional(),
  ns: listable(z.string()).optional(),
  extra: listable(z.string()).optional(),
};

/** Match part of a default DNS rule. */
export const dnsDefaultRuleMatchSchema = z.strictObject({
  type: z.literal("default").optional(),
  ...dnsRuleMatchFields,
});

/** A nested DNS rule (no action). */
export type InnerDnsRule =
  | z.output<typeof dnsDefaultRuleMatchSchema>
  | { type: "logical"; mode: "and" | "or"; rules: InnerDnsRule[]; invert?: boolean };

const innerDnsRule: z.ZodType<InnerDnsRule> = z.lazy(() =>
  z.union([
    z.strictObject({
      type: z.literal("logical"),
      mode: z.enum(["and", "or"]),
      rules: z.array(innerDnsRule).min(1, { error: "expected at least one rule" }),
      invert: z.boolean().optional(),
    }),
    dnsDefaultRuleMatchSchema,
  ])
) as z.ZodType<InnerDnsRule>;

/** A top-level DNS rule. */
export const dnsRuleSchema = z.union([
  z.strictObject({
    type: z.literal("logical"),
    mode: z.enum(["and", "or"]),
    rules: z.array(innerDnsRule).min(1, { error: "expected at least one rule" }),
    invert: z.boolean().optional(),
    ...dnsRuleActionFields,
  }),
  z.strictObject({ type: z.literal("default").optional(), ...dnsRuleMatchFields, ...dnsRuleActionFields }),
]);

/** Parsed DNS rule. */
export type DnsRuleOptions = z.output<typeof dnsRuleSchema>;

/** The `dns` section. */
export const dnsSchema = z.strictObject({
  servers: listable(dnsServerSchema).optional(),
  rules: listable(dnsRuleSchema).optional(),
  final: z.string().optional(),
  strategy: domainStrategy.optional(),
  disable_cache: z.boolean().optional(),
  disable_expire: z.boolean().optional(),
  independent_cache: z.boolean().optional(),
  cache_capacity: z.number().int().min(0).optional(),
  reverse_mapping: z.boolean().optional(),
  client_subnet: prefixable.optional(),
  /** Legacy (deprecated 1.12): ranges for `address: "fakeip"` servers. */
  fakeip: z.strictObject({
    enabled: z.boolean().optional(),
    inet4_range: prefixable.optional(),
    inet6_range: prefixable.optional(),
  }).optional(),
});

/** Parsed `dns` section. */
export type DnsOptions = z.output<typeof dnsSchema>;
