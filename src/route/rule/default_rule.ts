/**
 * Default and logical rules (sing-box `abstractDefaultRule` / `abstractLogicalRule`, spec
 * sing-box.md §3.2). Items are sorted into the source-address, source-port, destination-address
 * and destination-port groups: any item of a group may match (OR), every group present and every
 * other item must match (AND), then `invert` negates. A `rule_set` item is evaluated last with the
 * groups this rule already satisfied, so the set's items join the same groups
 * (see {@linkcode ./match_state.ts}).
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { DomainItem } from "./domain.ts";
import {
  combine,
  DESTINATION_ADDRESS,
  DESTINATION_PORT,
  requireGroups,
  single,
  SOURCE_ADDRESS,
  SOURCE_PORT,
  type StateSet,
} from "./match_state.ts";

/** Something evaluated with the groups already satisfied: a `rule_set` item. */
export interface StateItem {
  /** States reachable from `base` (0: no match). */
  states(ctx: MatchContext, base: number): StateSet;
  toString(): string;
}

/** Item groups of a default rule. */
export interface RuleGroups {
  sourceAddress: RuleItem[];
  sourcePort: RuleItem[];
  destinationAddress: RuleItem[];
  destinationPort: RuleItem[];
  /** Items that must each match. */
  other: RuleItem[];
  /** `rule_set`, merged into the groups above. */
  ruleSet?: StateItem;
}

/** A matcher: a default or logical rule without its action. */
export interface Matcher {
  /** True when the rule matches on its own (top level). */
  match(ctx: MatchContext): boolean;
  /**
   * The group states the rule reaches when the groups in `base` are already satisfied (by the
   * rule that references a rule-set containing this one); 0 when it does not match.
   */
  states(ctx: MatchContext, base: number): StateSet;
  toString(): string;
}

function anyMatch(items: RuleItem[], ctx: MatchContext): boolean {
  for (const item of items) if (item.match(ctx)) return true;
  return false;
}

/** Matches the grouped items of one default rule. */
export class DefaultMatcher implements Matcher {
  readonly #g: RuleGroups;
  readonly #required: number;
  readonly #empty: boolean;
  readonly #invert: boolean;
  /** The only item when the rule is a plain, non-inverted `domain`/`domain_suffix` rule. */
  readonly domainOnly: DomainItem | undefined;

  constructor(groups: RuleGroups, invert = false) {
    this.#g = groups;
    this.#invert = invert;
    this.#required = (groups.sourceAddress.length ? SOURCE_ADDRESS : 0) |
      (groups.sourcePort.length ? SOURCE_PORT : 0) |
      (groups.destinationAddress.length ? DESTINATION_ADDRESS : 0) |
      (groups.destinationPort.length ? DESTINATION_PORT : 0);
    this.#empty = this.#required === 0 && !groups.other.length && !groups.ruleSet;
    const d = groups.destinationAddress;
    this.domainOnly = !invert && this.#required === DESTINATION_ADDRESS && !groups.other.length &&
        !groups.ruleSet && d.length === 1 && d[0] instanceof DomainItem
      ? d[0]
      : undefined;
  }

  match(ctx: MatchContext): boolean {
    return this.states(ctx, 0) !== 0;
  }

  states(ctx: MatchContext, base: number): StateSet {
    if (this.#empty) return single(base);
    const g = this.#g;
    for (const item of g.other) if (!item.match(ctx)) return this.#failed(base);
    let state = this.#invert ? 0 : base;
    if (!(state & SOURCE_ADDRESS) && anyMatch(g.sourceAddress, ctx)) state |= SOURCE_ADDRESS;
    if (!(state & SOURCE_PORT) && anyMatch(g.sourcePort, ctx)) state |= SOURCE_PORT;
    if (!(state & DESTINATION_ADDRESS) && anyMatch(g.destinationAddress, ctx)) state |= DESTINATION_ADDRESS;
    if (!(state & DESTINATION_PORT) && anyMatch(g.destinationPort, ctx)) state |= DESTINATION_PORT;
    const set = requireGroups(g.ruleSet ? g.ruleSet.states(ctx, state) : single(state), this.#required);
    if (set === 0) return this.#failed(base);
    return this.#invert ? 0 : set;
  }

  #failed(base: number): StateSet {
    return this.#invert ? single(base) : 0;
  }

  toString(): string {
    const g = this.#g;
    const items: unknown[] = [
      ...g.other,
      ...g.sourceAddress,
      ...g.sourcePort,
      ...g.destinationAddress,
      ...g.destinationPort,
    ];
    if (g.ruleSet) items.push(g.ruleSet);
    const s = items.map(String).join(" ");
    return this.#invert ? `!(${s})` : s;
  }
}

/** `type: logical`: `and`/`or` over nested rules, then `invert`. */
export class LogicalMatcher implements Matcher {
  constructor(readonly mode: "and" | "or", readonly rules: Matcher[], readonly invert = false) {}

  match(ctx: MatchContext): boolean {
    return this.states(ctx, 0) !== 0;
  }

  states(ctx: MatchContext, base: number): StateSet {
    const from = this.invert ? 0 : base;
    let set: StateSet;
    if (this.mode === "and") {
      set = single(from);
      for (const r of this.rules) {
        set = combine(set, r.states(ctx, from));
        if (set === 0) break;
      }
    } else {
      set = 0;
      for (const r of this.rules) set |= r.states(ctx, from);
    }
    if (set === 0) return this.invert ? single(base) : 0;
    return this.invert ? 0 : set;
  }

  toString(): string {
    const s = this.rules.map((r) => `(${r})`).join(` ${this.mode} `);
    return this.invert ? `!(${s})` : s;
  }
}
