/**
 * Rule-set source format (spec sing-box.md §3.5): `{version, rules[]}` of headless rules, with
 * sing-box's JSON keys. Parsing normalises "Listable" values to arrays; formatting prints the
 * canonical form (`rule-set format`, `decompile`).
 *
 * @module
 */
import { z } from "zod";
import { listable } from "../../config/common.ts";
import { toConfigError } from "../../config/issues.ts";

/** Newest rule-set version sing-box 1.12 writes (3: network_type and friends). */
export const RULE_SET_VERSION_CURRENT = 3;

/** A default headless rule. `adguard_domain` is internal (binary only, never in JSON). */
export interface DefaultHeadlessRule {
  type?: "default";
  query_type?: (string | number)[];
  network?: string[];
  domain?: string[];
  domain_suffix?: string[];
  domain_keyword?: string[];
  domain_regex?: string[];
  source_ip_cidr?: string[];
  ip_cidr?: string[];
  source_port?: number[];
  source_port_range?: string[];
  port?: number[];
  port_range?: string[];
  process_name?: string[];
  process_path?: string[];
  process_path_regex?: string[];
  package_name?: string[];
  network_type?: string[];
  network_is_expensive?: boolean;
  network_is_constrained?: boolean;
  wifi_ssid?: string[];
  wifi_bssid?: string[];
  invert?: boolean;
  adguard_domain?: string[];
}

/** A logical headless rule. */
export interface LogicalHeadlessRule {
  type: "logical";
  mode: "and" | "or";
  rules: HeadlessRule[];
  invert?: boolean;
}

/** A headless rule (allowed inside rule-sets). */
export type HeadlessRule = DefaultHeadlessRule | LogicalHeadlessRule;

/** A whole rule-set. */
export interface PlainRuleSet {
  version: number;
  rules: HeadlessRule[];
}

const port = z.number().int().min(0).max(65535);
const networkType = z.enum(["wifi", "cellular", "ethernet", "other"]);

const defaultFields = {
  query_type: listable(z.union([z.string(), z.number().int().min(0).max(65535)])).optional(),
  network: listable(z.enum(["tcp", "udp"])).optional(),
  domain: listable(z.string()).optional(),
  domain_suffix: listable(z.string()).optional(),
  domain_keyword: listable(z.string()).optional(),
  domain_regex: listable(z.string()).optional(),
  source_ip_cidr: listable(z.string()).optional(),
  ip_cidr: listable(z.string()).optional(),
  source_port: listable(port).optional(),
  source_port_range: listable(z.string()).optional(),
  port: listable(port).optional(),
  port_range: listable(z.string()).optional(),
  process_name: listable(z.string()).optional(),
  process_path: listable(z.string()).optional(),
  process_path_regex: listable(z.string()).optional(),
  package_name: listable(z.string()).optional(),
  network_type: listable(networkType).optional(),
  network_is_expensive: z.boolean().optional(),
  network_is_constrained: z.boolean().optional(),
  wifi_ssid: listable(z.string()).optional(),
  wifi_bssid: listable(z.string()).optional(),
  invert: z.boolean().optional(),
};

const defaultRule = z.strictObject({ type: z.literal("default").optional(), ...defaultFields });

/** Schema of one headless rule (default or logical, nested). */
export const headlessRuleSchema: z.ZodType<HeadlessRule> = z.lazy(() =>
  z.union([
    z.strictObject({
      type: z.literal("logical"),
      mode: z.enum(["and", "or"]),
      rules: z.array(headlessRuleSchema).min(1, { error: "expected at least one rule" }),
      invert: z.boolean().optional(),
    }),
    defaultRule,
  ])
) as z.ZodType<HeadlessRule>;

/** Schema of a source file. */
export const ruleSetSourceSchema = z.strictObject({
  version: z.number().int().min(1).max(RULE_SET_VERSION_CURRENT, {
    error: `unknown rule-set version (this build reads 1..${RULE_SET_VERSION_CURRENT})`,
  }),
  rules: z.array(headlessRuleSchema).optional(),
});

/**
 * Parses a source rule-set from JSON text or a parsed value.
 *
 * @throws {SyntaxError} If the text is not JSON
 * @throws {ConfigError} If the content is not a rule-set (message names the JSON path)
 */
export function parseRuleSetSource(input: string | unknown): PlainRuleSet {
  const value = typeof input === "string" ? JSON.parse(input) : input;
  const r = ruleSetSourceSchema.safeParse(value);
  if (!r.success) throw toConfigError(r.error);
  return { version: r.data.version, rules: r.data.rules ?? [] };
}

const KEY_ORDER = [
  "query_type",
  "network",
  "domain",
  "domain_suffix",
  "domain_keyword",
  "domain_regex",
  "source_ip_cidr",
  "ip_cidr",
  "source_port",
  "source_port_range",
  "port",
  "port_range",
  "process_name",
  "process_path",
  "process_path_regex",
  "package_name",
  "network_type",
  "network_is_expensive",
  "network_is_constrained",
  "wifi_ssid",
  "wifi_bssid",
  "invert",
] as const;

/** The canonical JSON value of a rule (sing-box field order, empty fields dropped). */
export function ruleToJson(rule: HeadlessRule): Record<string, unknown> {
  if (rule.type === "logical") {
    const out: Record<string, unknown> = {
      type: "logical",
      mode: rule.mode,
      rules: rule.rules.map(ruleToJson),
    };
    if (rule.invert) out.invert = true;
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    const v = rule[key];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  return out;
}

/** Formats a rule-set as sing-box prints it (two-space indent). */
export function formatRuleSetSource(set: PlainRuleSet): string {
  return JSON.stringify({ version: set.version, rules: set.rules.map(ruleToJson) }, null, 2);
}
