/**
 * Matching with rule-sets: compiles headless rules into matchers that reuse the route rule
 * items (`src/route/rule/`), with a binary-searched IP range set for `ip_cidr` /
 * `source_ip_cidr` (rule-sets often carry thousands of prefixes) and an AdGuard domain item.
 * Items only a graphical client can evaluate (process, package, Wi-Fi, network type) never
 * match.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "../rule/item.ts";
import { formatList } from "../rule/item.ts";
import { DefaultMatcher, LogicalMatcher, type Matcher, type RuleGroups } from "../rule/default_rule.ts";
import { DomainItem } from "../rule/domain.ts";
import { DomainKeywordItem } from "../rule/domain_keyword.ts";
import { DomainRegexItem } from "../rule/domain_regex.ts";
import { NetworkItem } from "../rule/network.ts";
import { PortItem } from "../rule/port.ts";
import {
  NeverItem,
  QueryTypeItem,
  type RuleSetMatcher,
  type RuleSetMatchMode,
} from "../../dns/rule/items.ts";
import { buildIpSet, type IpRange, ipSetContains } from "./ip_set.ts";
import type { HeadlessRule, PlainRuleSet } from "./source.ts";

/** `ip_cidr` / `source_ip_cidr` over merged ranges. */
export class IpSetItem implements RuleItem {
  readonly #ranges: IpRange[];
  /**
   * @param acceptEmpty match when there is no destination address at all
   *   (`rule_set_ip_cidr_accept_empty`)
   */
  constructor(readonly cidrs: string[], readonly source: boolean, readonly acceptEmpty = false) {
    this.#ranges = buildIpSet(cidrs);
  }
  match(ctx: MatchContext): boolean {
    if (this.source) return ipSetContains(this.#ranges, ctx.metadata.source.host);
    if (!ctx.destinationIps.length) return this.acceptEmpty;
    return ctx.destinationIps.some((ip) => ipSetContains(this.#ranges, ip));
  }
  toString(): string {
    return `${this.source ? "source_ip_cidr" : "ip_cidr"}=${formatList(this.cidrs)}`;
  }
}

/** Regex form of one AdGuard domain rule line (`||a.com^`, `|a.com`, `a*.com`). */
export function adguardRegex(line: string): RegExp {
  let s = line;
  let start = "";
  if (s.startsWith("||")) {
    s = s.slice(2);
    start = "(?:^|\\.)";
  } else if (s.startsWith("|")) {
    s = s.slice(1);
    start = "^";
  }
  let end = "(?:\\.|$)";
  if (s.endsWith("^")) {
    s = s.slice(0, -1);
    end = "$";
  }
  const body = s.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(start + body + end);
}

/** The AdGuard domain item of converted rule-sets. */
export class AdGuardDomainItem implements RuleItem {
  readonly #regexps: RegExp[];
  constructor(readonly lines: string[]) {
    this.#regexps = lines.map(adguardRegex);
  }
  match(ctx: MatchContext): boolean {
    const d = ctx.domain;
    return d !== undefined && this.#regexps.some((r) => r.test(d));
  }
  toString(): string {
    return `adguard_domain=${formatList(this.lines)}`;
  }
}

const PLATFORM_KEYS = [
  "process_name",
  "process_path",
  "process_path_regex",
  "package_name",
  "network_type",
  "network_is_expensive",
  "network_is_constrained",
  "wifi_ssid",
  "wifi_bssid",
] as const;

/** Compiles one headless rule; `mode` says how its `ip_cidr` items are evaluated. */
export function compileHeadlessRule(rule: HeadlessRule, path: string, mode: RuleSetMatchMode = {}): Matcher {
  if (rule.type === "logical") {
    return new LogicalMatcher(
      rule.mode,
      rule.rules.map((r, i) => compileHeadlessRule(r, `${path}.rules[${i}]`, mode)),
      rule.invert ?? false,
    );
  }
  const g: RuleGroups = {
    sourceAddress: [],
    sourcePort: [],
    destinationAddress: [],
    destinationPort: [],
    other: [],
  };
  if (rule.query_type?.length) g.other.push(new QueryTypeItem(rule.query_type));
  if (rule.network?.length) g.other.push(new NetworkItem(rule.network));
  if (rule.domain?.length || rule.domain_suffix?.length) {
    g.destinationAddress.push(new DomainItem(rule.domain ?? [], rule.domain_suffix ?? []));
  }
  if (rule.domain_keyword?.length) g.destinationAddress.push(new DomainKeywordItem(rule.domain_keyword));
  if (rule.domain_regex?.length) {
    g.destinationAddress.push(new DomainRegexItem(rule.domain_regex, `${path}.domain_regex`));
  }
  if (rule.adguard_domain?.length) g.destinationAddress.push(new AdGuardDomainItem(rule.adguard_domain));
  if (rule.ip_cidr?.length) {
    if (mode.matchSource) g.sourceAddress.push(new IpSetItem(rule.ip_cidr, true));
    else if (!mode.ignoreDestinationIpCidr) {
      g.destinationAddress.push(new IpSetItem(rule.ip_cidr, false, mode.acceptEmpty));
    }
  }
  if (rule.source_ip_cidr?.length) g.sourceAddress.push(new IpSetItem(rule.source_ip_cidr, true));
  if (rule.source_port?.length || rule.source_port_range?.length) {
    g.sourcePort.push(
      new PortItem(true, rule.source_port ?? [], rule.source_port_range ?? [], `${path}.source_port_range`),
    );
  }
  if (rule.port?.length || rule.port_range?.length) {
    g.destinationPort.push(new PortItem(false, rule.port ?? [], rule.port_range ?? [], `${path}.port_range`));
  }
  for (const key of PLATFORM_KEYS) {
    const v = rule[key];
    if (v === undefined || v === false || (Array.isArray(v) && !v.length)) continue;
    g.other.push(new NeverItem(key));
  }
  return new DefaultMatcher(g, rule.invert ?? false);
}

function hasIpCidr(rule: HeadlessRule): boolean {
  return rule.type === "logical" ? rule.rules.some(hasIpCidr) : !!rule.ip_cidr?.length;
}

/** A compiled rule-set: matches when any of its rules matches. */
export class CompiledRuleSet implements RuleSetMatcher {
  readonly hasDestinationIpCidr: boolean;
  readonly #rules: Matcher[];
  readonly #variants = new Map<string, Matcher[]>();
  readonly #set: PlainRuleSet;
  readonly #path: string;

  constructor(set: PlainRuleSet, path = "rule_set") {
    this.#set = set;
    this.#path = path;
    this.#rules = set.rules.map((r, i) => compileHeadlessRule(r, `${path}.rules[${i}]`));
    this.hasDestinationIpCidr = set.rules.some(hasIpCidr);
  }

  #compiled(mode: RuleSetMatchMode): Matcher[] {
    if (!mode.matchSource && !mode.ignoreDestinationIpCidr && !mode.acceptEmpty) return this.#rules;
    const key = `${+!!mode.matchSource}${+!!mode.ignoreDestinationIpCidr}${+!!mode.acceptEmpty}`;
    let rules = this.#variants.get(key);
    if (!rules) {
      rules = this.#set.rules.map((r, i) => compileHeadlessRule(r, `${this.#path}.rules[${i}]`, mode));
      this.#variants.set(key, rules);
    }
    return rules;
  }

  /** Index of the first matching rule, or -1. */
  matchIndex(ctx: MatchContext, mode: RuleSetMatchMode = {}): number {
    const rules = this.#compiled(mode);
    for (let i = 0; i < rules.length; i++) if (rules[i].match(ctx)) return i;
    return -1;
  }

  match(ctx: MatchContext, mode: RuleSetMatchMode = {}): boolean {
    return this.matchIndex(ctx, mode) >= 0;
  }

  /** The compiled rules, for printing. */
  get rules(): readonly Matcher[] {
    return this.#rules;
  }
}
