/**
 * Turns validated rule options into matchers and actions, naming the JSON path in every
 * error. Tags referenced by actions are checked against the outbounds that exist.
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { InnerRule, RouteRuleOptions } from "../../config/route.ts";
import type { RouteOptionsAction, RuleAction } from "../action.ts";
import { AuthUserItem } from "./auth_user.ts";
import { CidrItem } from "./cidr.ts";
import { DefaultMatcher, LogicalMatcher, type Matcher, type RuleGroups } from "./default_rule.ts";
import { DomainItem } from "./domain.ts";
import { DomainKeywordItem } from "./domain_keyword.ts";
import { DomainRegexItem } from "./domain_regex.ts";
import { InboundItem } from "./inbound.ts";
import { IpIsPrivateItem } from "./ip_is_private.ts";
import { IpVersionItem } from "./ip_version.ts";
import { NetworkItem } from "./network.ts";
import { PortItem } from "./port.ts";
import { SniffedItem } from "./protocol.ts";
import { DEFAULT_SNIFF_TIMEOUT_MS, PACKET_SNIFFERS, STREAM_SNIFFERS } from "../sniff/mod.ts";

/** A compiled route rule. */
export interface Rule {
  matcher: Matcher;
  action: RuleAction;
  /** JSON path of the rule, for logs. */
  path: string;
}

type DefaultRuleOptions = Exclude<InnerRule, { type: "logical" }>;

function compileDefault(o: DefaultRuleOptions, path: string): Matcher {
  const g: RuleGroups = {
    sourceAddress: [],
    sourcePort: [],
    destinationAddress: [],
    destinationPort: [],
    other: [],
  };
  if (o.clash_mode !== undefined) {
    throw new ConfigError(`${path}.clash_mode`, "rule item not supported by this build");
  }
  if (o.rule_set !== undefined) {
    throw new ConfigError(`${path}.rule_set`, "rule item not supported by this build");
  }
  if (o.inbound?.length) g.other.push(new InboundItem(o.inbound));
  if (o.ip_version !== undefined) g.other.push(new IpVersionItem(o.ip_version));
  if (o.network?.length) g.other.push(new NetworkItem(o.network));
  if (o.auth_user?.length) g.other.push(new AuthUserItem(o.auth_user));
  if (o.protocol?.length) g.other.push(new SniffedItem("protocol", o.protocol));
  if (o.client?.length) g.other.push(new SniffedItem("client", o.client));
  if (o.domain?.length || o.domain_suffix?.length) {
    g.destinationAddress.push(new DomainItem(o.domain ?? [], o.domain_suffix ?? []));
  }
  if (o.domain_keyword?.length) g.destinationAddress.push(new DomainKeywordItem(o.domain_keyword));
  if (o.domain_regex?.length) {
    g.destinationAddress.push(new DomainRegexItem(o.domain_regex, `${path}.domain_regex`));
  }
  if (o.ip_cidr?.length) g.destinationAddress.push(new CidrItem(o.ip_cidr, false, `${path}.ip_cidr`));
  if (o.ip_is_private) g.destinationAddress.push(new IpIsPrivateItem(false));
  if (o.source_ip_cidr?.length) {
    g.sourceAddress.push(new CidrItem(o.source_ip_cidr, true, `${path}.source_ip_cidr`));
  }
  if (o.source_ip_is_private) g.sourceAddress.push(new IpIsPrivateItem(true));
  if (o.source_port?.length || o.source_port_range?.length) {
    g.sourcePort.push(
      new PortItem(true, o.source_port ?? [], o.source_port_range ?? [], `${path}.source_port_range`),
    );
  }
  if (o.port?.length || o.port_range?.length) {
    g.destinationPort.push(new PortItem(false, o.port ?? [], o.port_range ?? [], `${path}.port_range`));
  }
  return new DefaultMatcher(g, o.invert ?? false);
}

/** Compiles a rule's matching part (default or logical, recursively). */
export function compileMatcher(o: InnerRule, path: string): Matcher {
  if (o.type === "logical") {
    return new LogicalMatcher(
      o.mode,
      o.rules.map((r, i) => compileMatcher(r, `${path}.rules[${i}]`)),
      o.invert ?? false,
    );
  }
  return compileDefault(o, path);
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

/** Compiles one top-level route rule. */
export function compileRule(
  o: RouteRuleOptions,
  path: string,
  hasOutbound: (tag: string) => boolean,
  hasDnsServer?: (tag: string) => boolean,
): Rule {
  const matcher = compileMatcher(o as InnerRule, path);
  return { matcher, action: compileAction(o, path, hasOutbound, hasDnsServer), path };
}
