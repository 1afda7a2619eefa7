/**
 * Item construction shared by route rules, DNS rules and rule-set (headless) rules: the keys all
 * three kinds have are compiled the same way here, so each compiler only adds its own keys.
 *
 * @module
 */
import type { Logger } from "../../common/log.ts";
import type { DefaultHeadlessRule } from "../rule_set/source.ts";
import type { RuleGroups } from "./default_rule.ts";
import { DomainItem } from "./domain.ts";
import { DomainKeywordItem } from "./domain_keyword.ts";
import { DomainRegexItem } from "./domain_regex.ts";
import { NetworkItem } from "./network.ts";
import { NeverItem } from "./never.ts";
import { PortItem } from "./port.ts";
import { ProcessNameItem } from "./process_name.ts";
import { ProcessPathItem } from "./process_path.ts";
import { ProcessPathRegexItem } from "./process_path_regex.ts";
import { UserItem } from "./user.ts";
import { UserIdItem } from "./user_id.ts";

/** Match keys compiled identically for every rule kind (the headless ones plus `user`, `user_id`). */
export type SharedRuleKeys =
  & Pick<
    DefaultHeadlessRule,
    | "network"
    | "domain"
    | "domain_suffix"
    | "domain_keyword"
    | "domain_regex"
    | "source_port"
    | "source_port_range"
    | "port"
    | "port_range"
    | "process_name"
    | "process_path"
    | "process_path_regex"
  >
  & { user?: string[]; user_id?: number[] };

/** Keys that need the owning process looked up (sing-box `isProcessRule`). */
export const PROCESS_KEYS = [
  "process_name",
  "process_path",
  "process_path_regex",
  "package_name",
  "user",
  "user_id",
] as const;

/** Keys only graphical clients (Android/Apple) evaluate: parsed, never matching here. */
export const PLATFORM_KEYS = [
  "package_name",
  "network_type",
  "network_is_expensive",
  "network_is_constrained",
  "wifi_ssid",
  "wifi_bssid",
] as const;

/** True when a key holds a value that makes an item (a non-empty list, `true`, a string). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0);
}

/** True when a default rule has a process key (so the router must look the process up). */
export function usesProcess(rule: object): boolean {
  const r = rule as Record<string, unknown>;
  return PROCESS_KEYS.some((k) => isSet(r[k]));
}

/** Groups with no items yet. */
export function emptyGroups(): RuleGroups {
  return { sourceAddress: [], sourcePort: [], destinationAddress: [], destinationPort: [], other: [] };
}

/**
 * Adds the items for the shared keys of `o` to `g`.
 * @param path JSON path of the rule, for errors
 * @throws {ConfigError} If a regex or port range is invalid (path names the field)
 */
export function addSharedItems(g: RuleGroups, o: SharedRuleKeys, path: string): void {
  if (o.network?.length) g.other.push(new NetworkItem(o.network));
  if (o.domain?.length || o.domain_suffix?.length) {
    g.destinationAddress.push(new DomainItem(o.domain ?? [], o.domain_suffix ?? []));
  }
  if (o.domain_keyword?.length) g.destinationAddress.push(new DomainKeywordItem(o.domain_keyword));
  if (o.domain_regex?.length) {
    g.destinationAddress.push(new DomainRegexItem(o.domain_regex, `${path}.domain_regex`));
  }
  if (o.source_port?.length || o.source_port_range?.length) {
    g.sourcePort.push(
      new PortItem(true, o.source_port ?? [], o.source_port_range ?? [], `${path}.source_port_range`),
    );
  }
  if (o.port?.length || o.port_range?.length) {
    g.destinationPort.push(new PortItem(false, o.port ?? [], o.port_range ?? [], `${path}.port_range`));
  }
  if (o.process_name?.length) g.other.push(new ProcessNameItem(o.process_name));
  if (o.process_path?.length) g.other.push(new ProcessPathItem(o.process_path));
  if (o.process_path_regex?.length) {
    g.other.push(new ProcessPathRegexItem(o.process_path_regex, `${path}.process_path_regex`));
  }
  if (o.user?.length) g.other.push(new UserItem(o.user));
  if (o.user_id?.length) g.other.push(new UserIdItem(o.user_id));
}

/**
 * Adds a never-matching item for each platform-only key set in `o`, warning once per key with
 * its JSON path (sing-box on a platform without the information behaves the same).
 */
export function addPlatformItems(g: RuleGroups, o: object, path: string, logger?: Logger): void {
  const r = o as Record<string, unknown>;
  for (const key of PLATFORM_KEYS) {
    if (!isSet(r[key])) continue;
    logger?.warn(
      `${path}.${key}: rule item is only available on Android/Apple clients; it never matches here`,
    );
    g.other.push(new NeverItem(key));
  }
}

/** True when any default rule in `rules` (nested logical rules included) has a process key. */
export function rulesUseProcess(rules: readonly unknown[]): boolean {
  return rules.some((r) => {
    const o = r as { type?: string; rules?: unknown[] };
    return o.type === "logical" ? rulesUseProcess(o.rules ?? []) : usesProcess(o);
  });
}
