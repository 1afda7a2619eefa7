/**
 * Rule items only DNS rules have (sing-box `rule_item_query_type.go`,
 * `rule_item_ip_accept_any.go`) plus the DNS view of `ip_version`, which follows the query
 * type (A → 4, AAAA → 6) instead of a destination address.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "../../route/rule/item.ts";
import { formatList } from "../../route/rule/item.ts";
import { typeCode } from "../message.ts";

/** A match context with the DNS question's type. */
export interface DnsMatchContext extends MatchContext {
  /** Numeric QTYPE; 0 for a lookup that asks A and AAAA. */
  queryType: number;
}

/** Numeric QTYPE for a config value (`"A"`, `"HTTPS"`, `28`, `"TYPE65"`). */
export function parseQueryType(value: string | number): number {
  if (typeof value === "number") return value;
  const code = typeCode(value.toUpperCase());
  if (!code) throw new TypeError(`Unknown DNS query type "${value}"`);
  return code;
}

/** `query_type`. */
export class QueryTypeItem implements RuleItem {
  readonly #types: Set<number>;
  constructor(readonly values: (string | number)[]) {
    this.#types = new Set(values.map(parseQueryType));
  }
  match(ctx: MatchContext): boolean {
    const q = (ctx as DnsMatchContext).queryType ?? 0;
    return q !== 0 && this.#types.has(q);
  }
  toString(): string {
    return `query_type=${formatList(this.values)}`;
  }
}

/** `ip_version` of a DNS rule: the query asks for that family. */
export class QueryIpVersionItem implements RuleItem {
  constructor(readonly version: 4 | 6) {}
  match(ctx: MatchContext): boolean {
    const q = (ctx as DnsMatchContext).queryType ?? 0;
    return q === (this.version === 4 ? 1 : 28);
  }
  toString(): string {
    return `ip_version=${this.version}`;
  }
}

/** `ip_accept_any`: the response carries at least one address. */
export class IpAcceptAnyItem implements RuleItem {
  match(ctx: MatchContext): boolean {
    return ctx.destinationIps.length > 0;
  }
  toString(): string {
    return "ip_accept_any=true";
  }
}

/** `clash_mode`: the current Clash API mode equals the value (case-insensitive). */
export class ClashModeItem implements RuleItem {
  constructor(readonly mode: string, readonly current: () => string) {}
  match(): boolean {
    return this.current().toLowerCase() === this.mode.toLowerCase();
  }
  toString(): string {
    return `clash_mode=${this.mode}`;
  }
}

/** A key this build parses but cannot evaluate (platform-only); it never matches. */
export class NeverItem implements RuleItem {
  constructor(readonly key: string) {}
  match(): boolean {
    return false;
  }
  toString(): string {
    return `${this.key}=<unsupported>`;
  }
}

/** How a rule-set's `ip_cidr` items are evaluated. */
export interface RuleSetMatchMode {
  /** `rule_set_ip_cidr_match_source`: test `ip_cidr` against the source address. */
  matchSource?: boolean;
  /** DNS pre-match: leave destination `ip_cidr` out (the response is not known yet). */
  ignoreDestinationIpCidr?: boolean;
  /** `rule_set_ip_cidr_accept_empty`: `ip_cidr` matches when there is no address at all. */
  acceptEmpty?: boolean;
}

/** Something a `rule_set` tag resolves to. */
export interface RuleSetMatcher {
  /** Matches the context. */
  match(ctx: MatchContext, mode?: RuleSetMatchMode): boolean;
  /** True when the set has destination `ip_cidr` items (makes a DNS rule an address filter). */
  readonly hasDestinationIpCidr: boolean;
}

/** `rule_set`: any of the named sets matches. */
export class RuleSetItem implements RuleItem {
  constructor(
    readonly tags: string[],
    readonly sets: () => RuleSetMatcher[],
    readonly mode: RuleSetMatchMode = {},
  ) {}
  match(ctx: MatchContext): boolean {
    return this.sets().some((s) => s.match(ctx, this.mode));
  }
  toString(): string {
    return `rule_set=${formatList(this.tags)}`;
  }
}
