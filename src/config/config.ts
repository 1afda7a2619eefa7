/**
 * Validates a whole sing-box 1.12 config document: top-level sections, then each inbound and
 * outbound with its type's schema from the registry, then each route rule. Every error is a
 * {@linkcode ConfigError} naming the JSON path (spec sing-box.md §6).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../common/errors.ts";
import type { LogOptions } from "../common/log.ts";
import { LOG_LEVELS } from "../common/log.ts";
import type { InboundRegistry, OutboundRegistry } from "../adapter/registry.ts";
import { listable } from "./common.ts";
import { type DnsOptions, dnsSchema } from "../dns/options.ts";
import { parseAt } from "./issues.ts";
import {
  REMOVED_RULE_KEYS,
  type RouteOptions,
  type RouteRuleOptions,
  routeRuleSchema,
  routeSchema,
} from "./route.ts";

const logSchema = z.strictObject({
  disabled: z.boolean().optional(),
  level: z.enum(LOG_LEVELS).optional(),
  output: z.string().optional(),
  timestamp: z.boolean().optional(),
});

const typedObject = z.looseObject({
  type: z.string({ error: "expected string (the protocol type)" }),
  tag: z.string().optional(),
});

const rootSchema = z.strictObject({
  $schema: z.string().optional(),
  log: logSchema.optional(),
  dns: z.record(z.string(), z.unknown()).optional(),
  ntp: z.record(z.string(), z.unknown()).optional(),
  certificate: z.record(z.string(), z.unknown()).optional(),
  endpoints: listable(z.unknown()).optional(),
  inbounds: listable(z.unknown()).optional(),
  outbounds: listable(z.unknown()).optional(),
  route: routeSchema.optional(),
  services: listable(z.unknown()).optional(),
  experimental: z.record(z.string(), z.unknown()).optional(),
});

/** An inbound or outbound after validation: its type, tag and type-specific options. */
export interface TypedOptions {
  type: string;
  tag: string;
  options: unknown;
  /** JSON path of the object, for later error messages. */
  path: string;
}

/** A validated config document. */
export interface Options {
  log: LogOptions;
  inbounds: TypedOptions[];
  outbounds: TypedOptions[];
  route: Omit<RouteOptions, "rules"> & { rules: RouteRuleOptions[] };
  /** The `dns` section (spec sing-box.md §4), validated by `src/dns/options.ts`. */
  dns?: DnsOptions;
  /** Sections validated by their own modules (experimental), kept raw here. */
  experimental?: Record<string, unknown>;
}

/** Registries the validator needs. */
export interface ConfigRegistries {
  inbounds: InboundRegistry;
  outbounds: OutboundRegistry;
}

function parseTyped(
  list: unknown[] | undefined,
  section: "inbounds" | "outbounds",
  registry: InboundRegistry | OutboundRegistry,
): TypedOptions[] {
  const out: TypedOptions[] = [];
  const tags = new Set<string>();
  (list ?? []).forEach((raw, i) => {
    const path = `${section}[${i}]`;
    const head = parseAt(typedObject, raw, path);
    const def = registry.get(head.type);
    if (!def) {
      throw new ConfigError(
        `${path}.type`,
        `unknown ${registry.kind} type "${head.type}" (supported: ${registry.types().join(", ")})`,
      );
    }
    const options = parseAt(def.schema, raw, path);
    const tag = head.tag ?? (section === "outbounds" ? head.type : `${head.type}-in${i ? `-${i}` : ""}`);
    if (tags.has(tag)) throw new ConfigError(`${path}.tag`, `duplicate tag "${tag}"`);
    tags.add(tag);
    out.push({ type: head.type, tag, options, path });
  });
  return out;
}

function checkRuleKeys(raw: unknown, path: string): void {
  if (typeof raw !== "object" || raw === null) return;
  const rec = raw as Record<string, unknown>;
  for (const key of REMOVED_RULE_KEYS) {
    if (key in rec) {
      throw new ConfigError(
        `${path}.${key}`,
        `the ${
          key.replace("source_", "")
        } database was removed in sing-box 1.12: convert it to a rule-set and use "rule_set"`,
      );
    }
  }
  if (Array.isArray(rec.rules)) rec.rules.forEach((r, i) => checkRuleKeys(r, `${path}.rules[${i}]`));
}

/**
 * Validates a parsed JSON config.
 *
 * @param json the merged JSON document
 * @param registries protocol registries used to validate each inbound and outbound
 * @returns the validated options
 * @throws {ConfigError} If any field is invalid; the message starts with its JSON path
 */
export function parseConfig(json: unknown, registries: ConfigRegistries): Options {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError("", "expected a JSON object at the top level");
  }
  const root = parseAt(rootSchema, json, "");
  const inbounds = parseTyped(root.inbounds, "inbounds", registries.inbounds);
  const outbounds = parseTyped(root.outbounds, "outbounds", registries.outbounds);
  const route = root.route ?? {};
  const rules = (route.rules ?? []).map((raw, i) => {
    const path = `route.rules[${i}]`;
    checkRuleKeys(raw, path);
    return parseAt(routeRuleSchema, raw, path);
  });
  const dnsRules = root.dns?.rules;
  if (Array.isArray(dnsRules)) dnsRules.forEach((r, i) => checkRuleKeys(r, `dns.rules[${i}]`));
  else checkRuleKeys(dnsRules, "dns.rules");
  return {
    log: root.log ?? {},
    inbounds,
    outbounds,
    route: { ...route, rules },
    dns: root.dns === undefined ? undefined : parseAt(dnsSchema, root.dns, "dns"),
    experimental: root.experimental,
  };
}
