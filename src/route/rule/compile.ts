/**
 * Turns validated rule options into matchers and actions, naming the JSON path in every
 * error. Tags referenced by actions are checked against the outbounds that exist.
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { Logger } from "../../common/log.ts";
import type { InnerRule, RouteRuleOptions } from "../../config/route.ts";
import type { RouteOptionsAction, RuleAction } from "../action.ts";
import { AuthUserItem } from "./auth_user.ts";
import { CidrItem } from "./cidr.ts";
import { ClashModeItem } from "./clash_mode.ts";
import { DefaultMatcher, LogicalMatcher, type Matcher } from "./default_rule.ts";
import { InboundItem } from "./inbound.ts";
import { IpIsPrivateItem } from "./ip_is_private.ts";
import { IpVersionItem } from "./ip_version.ts";
import { SniffedItem } from "./protocol.ts";
import { RuleSetItem, type RuleSetMatcher } from "./rule_set.ts";
import { addPlatformItems, addSharedItems, emptyGroups } from "./shared.ts";
import { DEFAULT_SNIFF_TIMEOUT_MS, PACKET_SNIFFERS, STREAM_SNIFFERS } from "../sniff/mod.ts";

/** A compiled route rule. */
export interface Rule {
  matcher: Matcher;
  action: RuleAction;
  /** JSON path of the rule, for logs. */
  path: string;
}

/** What compiling route rules needs from the rest of the program. */
export interface RouteRuleContext {
  /** Does an outbound with this tag exist? */
  hasOutbound(tag: string): boolean;
  /** Does a DNS server with this tag exist (`resolve` action)? @default {() => true} */
  hasDnsServer?(tag: string): boolean;
  /** Resolves a `rule_set` tag; unknown tags are a config error. */
  ruleSet?(tag: string): RuleSetMatcher | undefined;
  /** Current Clash mode for `clash_mode`; undefined (or absent) never matches. */
  clashMode?: () => string | undefined;
  /** Receives warnings about platform-only keys. */
  logger?: Logger;
}

type DefaultRuleOptions = Exclude<InnerRule, { type: "logical" }>;

/**
 * Resolves the `rule_set` tags of a rule.
 * @throws {ConfigError} If a tag names no rule-set (path names its index)
 */
export function resolveRuleSets(
  tags: readonly string[],
  path: string,
  lookup: ((tag: string) => RuleSetMatcher | undefined) | undefined,
): RuleSetMatcher[] {
  return tags.map((tag, i) => {
    const set = lookup?.(tag);
    if (!set) throw new ConfigError(`${path}.rule_set[${i}]`, `rule-set "${tag}" not found`);
    return set;
  });
}

function compileDefault(o: DefaultRuleOptions, path: string, ctx: RouteRuleContext): Matcher {
  const g = emptyGroups();
  if (o.inbound?.length) g.other.push(new InboundItem(o.inbound));
  if (o.ip_version !== undefined) g.other.push(new IpVersionItem(o.ip_version));
  if (o.auth_user?.length) g.other.push(new AuthUserItem(o.auth_user));
  if (o.protocol?.length) g.other.push(new SniffedItem("protocol", o.protocol));
  if (o.client?.length) g.other.push(new SniffedItem("client", o.client));
  addSharedItems(g, o, path);
  if (o.ip_cidr?.length) g.destinationAddress.push(new CidrItem(o.ip_cidr, false, `${path}.ip_cidr`));
  if (o.ip_is_private) g.destinationAddress.push(new IpIsPrivateItem(false));
  if (o.source_ip_cidr?.length) {
    g.sourceAddress.push(new CidrItem(o.source_ip_cidr, true, `${path}.source_ip_cidr`));
  }
  if (o.source_ip_is_private) g.sourceAddress.push(new IpIsPrivateItem(true));
  if (o.clash_mode) g.other.push(new ClashModeItem(o.clash_mode, ctx.clashMode ?? (() => undefined)));
  addPlatformItems(g, o, path, ctx.logger);
  if (o.rule_set?.length) {
    const matchSource = o.rule_set_ip_cidr_match_source ?? o.rule_set_ipcidr_match_source ?? false;
    if (o.rule_set_ipcidr_match_source !== undefined) {
      ctx.logger?.warn(
        `${path}.rule_set_ipcidr_match_source: deprecated, use "rule_set_ip_cidr_match_source"`,
      );
    }
    g.ruleSet = new RuleSetItem(o.rule_set, resolveRuleSets(o.rule_set, path, ctx.ruleSet), { matchSource });
  }
  return new DefaultMatcher(g, o.invert ?? false);
}

/**
 * Compiles a rule's matching part (default or logical, recursively).
 * @throws {ConfigError} If an item is invalid or a rule-set tag is unknown
 */
export function compileMatcher(o: InnerRule, path: string, ctx: RouteRuleContext): Matcher {
  if (o.type === "logical") {
    return new LogicalMatcher(
      o.mode,
      o.rules.map((r, i) => compileMatcher(r, `${path}.rules[${i}]`, ctx)),
      o.invert ?? false,
    );
  }
  return compileDefault(o, path, ctx);
}

function routeOptions(o: RouteRuleOptions): RouteOptionsAction {
  return {
    override_address: o.override_address,
    override_port: o.override_port,
    udp_timeout: o.udp_timeout,
    fallback_delay: o.fallback_delay,
    network_strategy: o.network_strategy,
    udp_disable_domain_unmapping: o.udp_disable_domain_unmapping,
    udp_connect: o.udp_connect,
  };
}

/**
 * Compiles the action of a rule.
 * @param hasOutbound tells whether an outbound tag exists
 * @throws {ConfigError} If the action is unsupported or names an unknown outbound
 */
export function compileAction(
  o: RouteRuleOptions,
  path: string,
  hasOutbound: (tag: string) => boolean,
  hasDnsServer: (tag: string) => boolean = () => true,
): RuleAction {
  const type = o.action ?? "route";
  switch (type) {
    case "route": {
      if (o.outbound === undefined) {
        throw new ConfigError(`${path}.outbound`, 'missing outbound for action "route"');
      }
      if (!hasOutbound(o.outbound)) {
        throw new ConfigError(`${path}.outbound`, `outbound "${o.outbound}" not found`);
      }
      return { type: "route", outbound: o.outbound, options: routeOptions(o) };
    }
    case "route-options":
      return { type: "route-options", options: routeOptions(o) };
    case "reject":
      return { type: "reject", method: o.method ?? "default", noDrop: o.no_drop ?? false };
    case "sniff": {
      const known = new Set<string>([...STREAM_SNIFFERS, ...PACKET_SNIFFERS]);
      (o.sniffer ?? []).forEach((name, i) => {
        if (!known.has(name)) throw new ConfigError(`${path}.sniffer[${i}]`, `unknown sniffer "${name}"`);
      });
      return { type: "sniff", sniffers: o.sniffer, timeoutMs: o.timeout ?? DEFAULT_SNIFF_TIMEOUT_MS };
    }
    case "hijack-dns":
      return { type: "hijack-dns" };
    case "resolve":
      if (o.server !== undefined && !hasDnsServer(o.server)) {
        throw new ConfigError(`${path}.server`, `DNS server "${o.server}" not found`);
      }
      return {
        type: "resolve",
        server: o.server,
        strategy: o.strategy,
        disableCache: o.disable_cache,
        rewriteTtl: o.rewrite_ttl,
        clientSubnet: o.client_subnet,
      };
    default:
      throw new ConfigError(`${path}.action`, `action "${type}" is not supported by this build`);
  }
}

/**
 * Compiles one top-level route rule.
 * @throws {ConfigError} If an item or the action is invalid, or a tag is unknown
 */
export function compileRule(o: RouteRuleOptions, path: string, ctx: RouteRuleContext): Rule {
  const matcher = compileMatcher(o as InnerRule, path, ctx);
  return { matcher, action: compileAction(o, path, ctx.hasOutbound, ctx.hasDnsServer), path };
}
