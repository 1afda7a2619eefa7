/**
 * Schema of the `route` section: rules (default and logical), rule actions and `final`
 * (spec sing-box.md §3.1–§3.4). Keys are exactly sing-box 1.12's.
 *
 * @module
 */
import { z } from "zod";
import { domainResolver, duration, listable, port } from "./common.ts";

const portRange = z.string().regex(/^\d*:\d*$/, { error: 'expected port range "a:b", ":b" or "a:"' });
const cidr = z.string().refine((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s), {
  error: "expected CIDR prefix",
});

/** Match keys implemented by this build; one rule item each under `src/route/rule/`. */
export const ruleMatchFields = {
  inbound: listable(z.string()).optional(),
  ip_version: z.union([z.literal(4), z.literal(6)], { error: "expected 4 or 6" }).optional(),
  network: listable(z.enum(["tcp", "udp"])).optional(),
  auth_user: listable(z.string()).optional(),
  protocol: listable(z.string()).optional(),
  client: listable(z.string()).optional(),
  domain: listable(z.string()).optional(),
  domain_suffix: listable(z.string()).optional(),
  domain_keyword: listable(z.string()).optional(),
  domain_regex: listable(z.string()).optional(),
  source_ip_cidr: listable(cidr).optional(),
  source_ip_is_private: z.boolean().optional(),
  ip_cidr: listable(cidr).optional(),
  ip_is_private: z.boolean().optional(),
  source_port: listable(port).optional(),
  source_port_range: listable(portRange).optional(),
  port: listable(port).optional(),
  port_range: listable(portRange).optional(),
  process_name: listable(z.string()).optional(),
  process_path: listable(z.string()).optional(),
  process_path_regex: listable(z.string()).optional(),
  user: listable(z.string()).optional(),
  user_id: listable(z.number().int()).optional(),
  clash_mode: z.string().optional(),
  // Platform keys (Android/Apple clients): parsed, never matching here (warned about when compiled).
  package_name: listable(z.string()).optional(),
  network_type: listable(z.enum(["wifi", "cellular", "ethernet", "other"])).optional(),
  network_is_expensive: z.boolean().optional(),
  network_is_constrained: z.boolean().optional(),
  wifi_ssid: listable(z.string()).optional(),
  wifi_bssid: listable(z.string()).optional(),
  rule_set: listable(z.string()).optional(),
  rule_set_ip_cidr_match_source: z.boolean().optional(),
  rule_set_ipcidr_match_source: z.boolean().optional(),
  invert: z.boolean().optional(),
};

/**
 * Rule keys whose databases sing-box 1.12 removed (deprecated since 1.8): a rule using them is
 * rejected with a hint to convert the database into a rule-set.
 */
export const REMOVED_RULE_KEYS = ["geosite", "geoip", "source_geoip"] as const;

const routeOptionFields = {
  override_address: z.string().optional(),
  override_port: port.optional(),
  network_strategy: z.string().optional(),
  fallback_delay: duration.optional(),
  udp_disable_domain_unmapping: z.boolean().optional(),
  udp_connect: z.boolean().optional(),
  udp_timeout: duration.optional(),
  tls_fragment: z.boolean().optional(),
  tls_fragment_fallback_delay: duration.optional(),
  tls_record_fragment: z.boolean().optional(),
};

/** Action fields that may appear on a rule next to its match keys (§3.4). */
export const ruleActionFields = {
  action: z.enum(["route", "route-options", "reject", "hijack-dns", "sniff", "resolve"], {
    error: 'expected one of "route", "route-options", "reject", "hijack-dns", "sniff", "resolve"',
  }).optional(),
  outbound: z.string().optional(),
  ...routeOptionFields,
  method: z.enum(["default", "drop"]).optional(),
  no_drop: z.boolean().optional(),
  sniffer: listable(z.string()).optional(),
  timeout: duration.optional(),
  server: z.string().optional(),
  strategy: z.enum(["prefer_ipv4", "prefer_ipv6", "ipv4_only", "ipv6_only", ""]).optional(),
  disable_cache: z.boolean().optional(),
  rewrite_ttl: z.number().int().optional(),
  client_subnet: z.string().optional(),
};

/** A default rule's match keys only (used inside logical rules). */
export const defaultRuleMatchSchema = z.strictObject({
  type: z.literal("default").optional(),
  ...ruleMatchFields,
});

/** A logical rule's inner rule: default or logical, no action. */
export type InnerRule =
  | z.output<typeof defaultRuleMatchSchema>
  | { type: "logical"; mode: "and" | "or"; rules: InnerRule[]; invert?: boolean };

const innerRule: z.ZodType<InnerRule> = z.lazy(() =>
  z.union([
    z.strictObject({
      type: z.literal("logical"),
      mode: z.enum(["and", "or"]),
      rules: z.array(innerRule).min(1, { error: "expected at least one rule" }),
      invert: z.boolean().optional(),
    }),
    defaultRuleMatchSchema,
  ])
) as z.ZodType<InnerRule>;

/** A top-level route rule: default (match keys + action) or logical (mode, rules + action). */
export const routeRuleSchema = z.union([
  z.strictObject({
    type: z.literal("logical"),
    mode: z.enum(["and", "or"]),
    rules: z.array(innerRule).min(1, { error: "expected at least one rule" }),
    invert: z.boolean().optional(),
    ...ruleActionFields,
  }),
  z.strictObject({ type: z.literal("default").optional(), ...ruleMatchFields, ...ruleActionFields }),
]);

/** Parsed route rule. */
export type RouteRuleOptions = z.output<typeof routeRuleSchema>;

/** The `route` section. */
export const routeSchema = z.strictObject({
  rules: listable(z.unknown()).optional(),
  rule_set: listable(z.unknown()).optional(),
  final: z.string().optional(),
  auto_detect_interface: z.boolean().optional(),
  override_android_vpn: z.boolean().optional(),
  default_interface: z.string().optional(),
  default_mark: z.union([z.number(), z.string()]).optional(),
  default_domain_resolver: domainResolver.optional(),
  default_network_strategy: z.string().optional(),
  default_network_type: listable(z.string()).optional(),
  default_fallback_network_type: listable(z.string()).optional(),
  default_fallback_delay: duration.optional(),
  find_process: z.boolean().optional(),
});

/** Parsed `route` section (rules still raw; validated one by one for precise paths). */
export type RouteOptions = z.output<typeof routeSchema>;
