/**
 * Compiles DNS rules (spec sing-box.md §3.3–§3.4) from validated options, reusing the route rule
 * items of `src/route/rule/`. A rule with response address filters (`ip_cidr`,
 * `ip_is_private`, `ip_accept_any`, a rule-set with `ip_cidr`) gets two matchers: `pre` ignores
 * those items and selects the rule before the exchange; `full` checks the response addresses
 * (sing-box `Match` with `IgnoreDestinationIPCIDRMatch` and `MatchAddressLimit`).
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { Logger } from "../../common/log.ts";
import { AuthUserItem } from "../../route/rule/auth_user.ts";
import { CidrItem } from "../../route/rule/cidr.ts";
import { ClashModeItem } from "../../route/rule/clash_mode.ts";
import { DefaultMatcher, LogicalMatcher, type Matcher } from "../../route/rule/default_rule.ts";
import { resolveRuleSets } from "../../route/rule/compile.ts";
import { InboundItem } from "../../route/rule/inbound.ts";
import { IpIsPrivateItem } from "../../route/rule/ip_is_private.ts";
import type { RuleItem } from "../../route/rule/item.ts";
import { NeverItem } from "../../route/rule/never.ts";
import { SniffedItem } from "../../route/rule/protocol.ts";
import { RuleSetItem, type RuleSetMatcher } from "../../route/rule/rule_set.ts";
import { addPlatformItems, addSharedItems, emptyGroups } from "../../route/rule/shared.ts";
import type { DomainStrategy, QueryOptions } from "../client.ts";
import type { DnsRecord } from "../message.ts";
import type { DnsRuleOptions, InnerDnsRule } from "../options.ts";
import { RCODE } from "../wire.ts";
import { parseZoneRecord } from "./record.ts";
import { IpAcceptAnyItem, QueryIpVersionItem, QueryTypeItem } from "./items.ts";

/** What a DNS rule does once it matches. */
export type DnsRuleAction =
  | { type: "route"; server: string; options: QueryOptions }
  | { type: "route-options"; options: QueryOptions }
  | { type: "reject"; method: "default" | "drop"; noDrop: boolean }
  | { type: "predefined"; rcode: number; answer: DnsRecord[]; ns: DnsRecord[]; extra: DnsRecord[] };

/** A compiled DNS rule. */
export interface DnsRule {
  /** Selects the rule before the exchange (address filters ignored). */
  pre: Matcher;
  /** Checks the response addresses (address filters included). */
  full: Matcher;
  /** True when the rule filters on response addresses (read each time: rule-sets may reload). */
  readonly addressLimit: boolean;
  action: DnsRuleAction;
  path: string;
}

/** What compiling needs from the rest of the program. */
export interface DnsRuleContext {
  /** Does a DNS server with this tag exist? */
  hasServer(tag: string): boolean;
  /** Resolves rule-set tags; unknown tags are a config error. */
  ruleSet?(tag: string): RuleSetMatcher | undefined;
  /** Current Clash mode for `clash_mode`; undefined (or absent) never matches. */
  clashMode?: () => string | undefined;
  logger?: Logger;
}

const RCODES: Record<string, number> = { ...RCODE };

type DefaultDnsRule = Exclude<InnerDnsRule, { type: "logical" }>;

interface Compiled {
  pre: Matcher;
  full: Matcher;
  /** Evaluated when used: a rule-set's content (and so its `ip_cidr`) may change after compiling. */
  addressLimit: () => boolean;
}

function compileDefault(o: DefaultDnsRule, path: string, ctx: DnsRuleContext): Compiled {
  const g = emptyGroups();
  const addressItems: RuleItem[] = [];
  if (o.inbound?.length) g.other.push(new InboundItem(o.inbound));
  if (o.ip_version !== undefined) g.other.push(new QueryIpVersionItem(o.ip_version));
  if (o.query_type?.length) {
    try {
      g.other.push(new QueryTypeItem(o.query_type));
    } catch (e) {
      throw new ConfigError(`${path}.query_type`, (e as Error).message);
    }
  }
  if (o.auth_user?.length) g.other.push(new AuthUserItem(o.auth_user));
  if (o.protocol?.length) g.other.push(new SniffedItem("protocol", o.protocol));
  addSharedItems(g, o, path);
  if (o.ip_cidr?.length) addressItems.push(new CidrItem(o.ip_cidr, false, `${path}.ip_cidr`));
  if (o.ip_is_private) addressItems.push(new IpIsPrivateItem(false));
  if (o.ip_accept_any) addressItems.push(new IpAcceptAnyItem());
  if (o.source_ip_cidr?.length) {
    g.sourceAddress.push(new CidrItem(o.source_ip_cidr, true, `${path}.source_ip_cidr`));
  }
  if (o.source_ip_is_private) g.sourceAddress.push(new IpIsPrivateItem(true));
  if (o.clash_mode) g.other.push(new ClashModeItem(o.clash_mode, ctx.clashMode ?? (() => undefined)));
  addPlatformItems(g, o, path, ctx.logger);
  if (o.outbound?.length) {
    ctx.logger?.warn(
      `${path}.outbound: deprecated in sing-box 1.12 and not evaluated; the rule never matches`,
    );
    g.other.push(new NeverItem("outbound"));
  }
  const invert = o.invert ?? false;
  // Rule-set items differ between the pre-match and the response check. Whether a set has
  // destination `ip_cidr` is known only once it is loaded (and may change on reload).
  let preSet: RuleSetItem | undefined;
  let fullSet: RuleSetItem | undefined;
  let limitSets: RuleSetMatcher[] = [];
  if (o.rule_set?.length) {
    const sets = resolveRuleSets(o.rule_set, path, ctx.ruleSet);
    const matchSource = o.rule_set_ip_cidr_match_source ?? o.rule_set_ipcidr_match_source ?? false;
    const acceptEmpty = o.rule_set_ip_cidr_accept_empty ?? false;
    if (!matchSource) {
      limitSets = sets;
      preSet = new RuleSetItem(o.rule_set, sets, { ignoreDestinationIpCidr: true });
      fullSet = new RuleSetItem(o.rule_set, sets, { acceptEmpty });
    } else preSet = fullSet = new RuleSetItem(o.rule_set, sets, { matchSource });
  }
  const pre = new DefaultMatcher({ ...g, ruleSet: preSet }, invert);
  if (!addressItems.length && !limitSets.length) return { pre, full: pre, addressLimit: () => false };
  const full = new DefaultMatcher({
    ...g,
    destinationAddress: [...g.destinationAddress, ...addressItems],
    ruleSet: fullSet,
  }, invert);
  const fixed = addressItems.length > 0;
  return { pre, full, addressLimit: () => fixed || limitSets.some((s) => s.hasDestinationIpCidr) };
}

function compileInner(o: InnerDnsRule, path: string, ctx: DnsRuleContext): Compiled {
  if (o.type === "logical") {
    const subs = o.rules.map((r, i) => compileInner(r, `${path}.rules[${i}]`, ctx));
    return {
      pre: new LogicalMatcher(o.mode, subs.map((s) => s.pre), o.invert ?? false),
      full: new LogicalMatcher(o.mode, subs.map((s) => s.full), o.invert ?? false),
      addressLimit: () => subs.some((s) => s.addressLimit()),
    };
  }
  return compileDefault(o, path, ctx);
}

function queryOptions(o: DnsRuleOptions): QueryOptions {
  const out: QueryOptions = {};
  if (o.strategy) out.strategy = o.strategy as DomainStrategy;
  if (o.disable_cache) out.disableCache = true;
  if (o.rewrite_ttl !== undefined) out.rewriteTtl = o.rewrite_ttl;
  if (o.client_subnet) out.clientSubnet = o.client_subnet;
  return out;
}

function records(list: string[] | undefined, path: string): DnsRecord[] {
  return (list ?? []).map((text, i) => {
    try {
      return parseZoneRecord(text);
    } catch (e) {
      throw new ConfigError(`${path}[${i}]`, (e as Error).message);
    }
  });
}

/**
 * Compiles one DNS rule.
 *
 * @throws {ConfigError} If a value is invalid or a server or rule-set tag is unknown
 */
export function compileDnsRule(o: DnsRuleOptions, path: string, ctx: DnsRuleContext): DnsRule {
  const compiled = compileInner(o as InnerDnsRule, path, ctx);
  let action: DnsRuleAction;
  switch (o.action ?? "route") {
    case "route":
      if (!o.server) throw new ConfigError(`${path}.server`, 'missing server for action "route"');
      if (!ctx.hasServer(o.server)) {
        throw new ConfigError(`${path}.server`, `DNS server "${o.server}" not found`);
      }
      action = { type: "route", server: o.server, options: queryOptions(o) };
      break;
    case "route-options":
      action = { type: "route-options", options: queryOptions(o) };
      break;
    case "reject":
      action = { type: "reject", method: o.method ?? "default", noDrop: o.no_drop ?? false };
      break;
    case "predefined":
      action = {
        type: "predefined",
        rcode: RCODES[o.rcode ?? "NOERROR"],
        answer: records(o.answer, `${path}.answer`),
        ns: records(o.ns, `${path}.ns`),
        extra: records(o.extra, `${path}.extra`),
      };
      break;
  }
  const { pre, full, addressLimit } = compiled;
  return {
    pre,
    full,
    get addressLimit() {
      return addressLimit();
    },
    action,
    path,
  };
}

/** Prints a DNS action for logs (`route(local)`, `reject`, `predefined(NXDOMAIN)`). */
export function formatDnsAction(a: DnsRuleAction): string {
  switch (a.type) {
    case "route":
      return `route(${a.server})`;
    case "route-options":
      return "route-options";
    case "reject":
      return a.method === "drop" ? "reject(drop)" : "reject";
    case "predefined":
      return `predefined(${Object.keys(RCODES).find((k) => RCODES[k] === a.rcode)})`;
  }
}
