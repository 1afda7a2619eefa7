/**
 * Rule items only DNS rules have (sing-box `rule_item_query_type.go`,
 * `rule_item_ip_accept_any.go`) plus the DNS view of `ip_version`, which follows the query
 * type (A → 4, AAAA → 6) instead of a destination address. Items shared with route rules live in
 * `src/route/rule/`.
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
