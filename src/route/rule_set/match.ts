/**
 * Matching with rule-sets: compiles headless rules into matchers that reuse the route rule
 * items (`src/route/rule/`), with a binary-searched IP range set for `ip_cidr` /
 * `source_ip_cidr` (rule-sets often carry thousands of prefixes) and an AdGuard domain item.
 * Process items match the process the router looked up; items only a graphical client can
 * evaluate (package, Wi-Fi, network type) never match.
 *
 * @module
 */
import type { Logger } from "../../common/log.ts";
import type { MatchContext, RuleItem } from "../rule/item.ts";
import { formatList } from "../rule/item.ts";
import { DefaultMatcher, LogicalMatcher, type Matcher } from "../rule/default_rule.ts";
import { DomainItem } from "../rule/domain.ts";
import { FirstMatch } from "../rule/first_match.ts";
import type { StateSet } from "../rule/match_state.ts";
import type { RuleSetMatcher, RuleSetMatchMode } from "../rule/rule_set.ts";
import { addPlatformItems, addSharedItems, emptyGroups, usesProcess } from "../rule/shared.ts";
import { QueryTypeItem } from "../../dns/rule/items.ts";
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

/**
 * Compiles one headless rule; `mode` says how its `ip_cidr` items are evaluated.
 * @param logger receives a warning per platform-only key
 */
export function compileHeadlessRule(
  rule: HeadlessRule,
  path: string,
  mode: RuleSetMatchMode = {},
  logger?: Logger,
): Matcher {
  if (rule.type === "logical") {
    return new LogicalMatcher(
      rule.mode,
      rule.rules.map((r, i) => compileHeadlessRule(r, `${path}.rules[${i}]`, mode, logger)),
      rule.invert ?? false,
    );
  }
  const g = emptyGroups();
  if (rule.query_type?.length) g.other.push(new QueryTypeItem(rule.query_type));
  addSharedItems(g, rule, path);
  if (rule.adguard_domain?.length) g.destinationAddress.push(new AdGuardDomainItem(rule.adguard_domain));
  if (rule.ip_cidr?.length) {
    if (mode.matchSource) g.sourceAddress.push(new IpSetItem(rule.ip_cidr, true));
    else if (!mode.ignoreDestinationIpCidr) {
      g.destinationAddress.push(new IpSetItem(rule.ip_cidr, false, mode.acceptEmpty));
    }
  }
  if (rule.source_ip_cidr?.length) g.sourceAddress.push(new IpSetItem(rule.source_ip_cidr, true));
  addPlatformItems(g, rule, path, logger);
  return new DefaultMatcher(g, rule.invert ?? false);
}

function some(rule: HeadlessRule, test: (r: Exclude<HeadlessRule, { type: "logical" }>) => boolean): boolean {
  return rule.type === "logical" ? rule.rules.some((r) => some(r, test)) : test(rule);
}

/** The rules of one match mode: in order (first match) and grouped for the union. */
class Compiled {
  /** In order, for {@linkcode CompiledRuleSet.matchIndex}. */
  readonly rules: Matcher[];
  /** Plain domain rules merged into one, then the rest: same union of states, fewer tests. */
  readonly union: Matcher[];
  #first?: FirstMatch;

  constructor(rules: Matcher[]) {
    this.rules = rules;
    const domains: string[] = [];
    const suffixes: string[] = [];
    this.union = [];
    for (const m of rules) {
      const d = m instanceof DefaultMatcher ? m.domainOnly : undefined;
      if (d) {
        domains.push(...d.domains);
        suffixes.push(...d.suffixes);
      } else this.union.push(m);
    }
    if (domains.length || suffixes.length) {
      const g = emptyGroups();
      g.destinationAddress.push(new DomainItem(domains, suffixes));
      this.union.unshift(new DefaultMatcher(g));
    }
  }

  get first(): FirstMatch {
    return this.#first ??= new FirstMatch(this.rules);
  }
}

/** State 15 (all four groups) makes any further state redundant. */
const ALL_GROUPS = 1 << 15;

/** A compiled rule-set: matches when any of its rules matches. */
export class CompiledRuleSet implements RuleSetMatcher {
  readonly hasDestinationIpCidr: boolean;
  /** True when a rule uses `process_name`, `user` and the like (the router must look processes up). */
  readonly containsProcessRule: boolean;
  readonly #base: Compiled;
  readonly #variants = new Map<string, Compiled>();
  readonly #set: PlainRuleSet;
  readonly #path: string;

  /**
   * @param path JSON path prefix for errors and warnings (`rule_set[geo]`)
   * @param logger receives a warning per platform-only key
   * @throws {ConfigError} If a rule holds an invalid regex or port range
   */
  constructor(set: PlainRuleSet, path = "rule_set", logger?: Logger) {
    this.#set = set;
    this.#path = path;
    this.#base = new Compiled(
      set.rules.map((r, i) => compileHeadlessRule(r, `${path}.rules[${i}]`, {}, logger)),
    );
    this.hasDestinationIpCidr = set.rules.some((r) => some(r, (d) => !!d.ip_cidr?.length));
    this.containsProcessRule = set.rules.some((r) => some(r, usesProcess));
  }

  #compiled(mode: RuleSetMatchMode): Compiled {
    if (!mode.matchSource && !mode.ignoreDestinationIpCidr && !mode.acceptEmpty) return this.#base;
    const key = `${+!!mode.matchSource}${+!!mode.ignoreDestinationIpCidr}${+!!mode.acceptEmpty}`;
    let c = this.#variants.get(key);
    if (!c) {
      c = new Compiled(
        this.#set.rules.map((r, i) => compileHeadlessRule(r, `${this.#path}.rules[${i}]`, mode)),
      );
      this.#variants.set(key, c);
    }
    return c;
  }

  /** Index of the first rule that matches on its own, or -1. */
  matchIndex(ctx: MatchContext, mode: RuleSetMatchMode = {}): number {
    return this.#compiled(mode).first.find(ctx);
  }

  match(ctx: MatchContext, mode: RuleSetMatchMode = {}): boolean {
    return this.states(ctx, 0, mode) !== 0;
  }

  states(ctx: MatchContext, base: number, mode: RuleSetMatchMode = {}): StateSet {
    let out = 0;
    for (const m of this.#compiled(mode).union) {
      out |= m.states(ctx, base);
      if (out & ALL_GROUPS) break;
    }
    return out;
  }

  /** The compiled rules, for printing. */
  get rules(): readonly Matcher[] {
    return this.#base.rules;
  }
}
