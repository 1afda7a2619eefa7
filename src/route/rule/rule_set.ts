/**
 * `rule_set` (sing-box `rule_item_rule_set.go`): the rule matches when one of the named rule-sets
 * has a rule that matches together with this rule's groups (spec sing-box.md §3.2, §3.5).
 * `rule_set_ip_cidr_match_source` makes the sets' `ip_cidr` test the source address.
 *
 * @module
 */
import type { StateItem } from "./default_rule.ts";
import type { MatchContext } from "./item.ts";
import { formatList } from "./item.ts";
import type { StateSet } from "./match_state.ts";

/** How a rule-set's `ip_cidr` items are evaluated. */
export interface RuleSetMatchMode {
  /** `rule_set_ip_cidr_match_source`: test `ip_cidr` against the source address. */
  matchSource?: boolean;
  /** DNS pre-match: leave destination `ip_cidr` out (the response is not known yet). */
  ignoreDestinationIpCidr?: boolean;
  /** `rule_set_ip_cidr_accept_empty`: `ip_cidr` matches when there is no address at all. */
  acceptEmpty?: boolean;
}

/** Something a `rule_set` tag resolves to (a loaded rule-set whose content may change). */
export interface RuleSetMatcher {
  /** True when one of the set's rules matches on its own. */
  match(ctx: MatchContext, mode?: RuleSetMatchMode): boolean;
  /** Union of the group states its rules reach from `base` (0: none matches). */
  states(ctx: MatchContext, base: number, mode?: RuleSetMatchMode): StateSet;
  /** True when the set has destination `ip_cidr` items (makes a DNS rule an address filter). */
  readonly hasDestinationIpCidr: boolean;
}

/** `rule_set`: any of the named sets matches. */
export class RuleSetItem implements StateItem {
  constructor(
    readonly tags: readonly string[],
    readonly sets: readonly RuleSetMatcher[],
    readonly mode: RuleSetMatchMode = {},
  ) {}

  states(ctx: MatchContext, base: number): StateSet {
    let out = 0;
    for (const s of this.sets) out |= s.states(ctx, base, this.mode);
    return out;
  }

  toString(): string {
    return `rule_set=${formatList(this.tags)}`;
  }
}
