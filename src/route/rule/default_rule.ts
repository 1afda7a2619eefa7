/**
 * A default rule: items sorted into groups as sing-box does (spec sing-box.md §3.2). Within
 * the source-address, source-port, destination-address and destination-port groups any item
 * may match (OR); every group present and every other item must match (AND); `invert`
 * negates the result.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";

/** Item groups of a default rule. */
export interface RuleGroups {
  sourceAddress: RuleItem[];
  sourcePort: RuleItem[];
  destinationAddress: RuleItem[];
  destinationPort: RuleItem[];
  /** Items that must each match. */
  other: RuleItem[];
}

/** A matcher: a default or logical rule without its action. */
export interface Matcher {
  match(ctx: MatchContext): boolean;
  toString(): string;
}

/** Matches the grouped items of one default rule. */
export class DefaultMatcher implements Matcher {
  #groups: RuleItem[][];
  #other: RuleItem[];
  #invert: boolean;

  constructor(groups: RuleGroups, invert = false) {
    this.#groups = [
      groups.sourceAddress,
      groups.sourcePort,
      groups.destinationAddress,
      groups.destinationPort,
    ]
      .filter((g) => g.length > 0);
    this.#other = groups.other;
    this.#invert = invert;
  }

  match(ctx: MatchContext): boolean {
    let ok = true;
    for (const item of this.#other) {
      if (!item.match(ctx)) {
        ok = false;
        break;
      }
    }
    if (ok) {
      for (const group of this.#groups) {
        if (!group.some((i) => i.match(ctx))) {
          ok = false;
          break;
        }
      }
    }
    return ok !== this.#invert;
  }

  toString(): string {
    const s = [...this.#other, ...this.#groups.flat()].map(String).join(" ");
    return this.#invert ? `!(${s})` : s;
  }
}

/** `type: logical`: `and`/`or` over nested rules, then `invert`. */
export class LogicalMatcher implements Matcher {
  constructor(readonly mode: "and" | "or", readonly rules: Matcher[], readonly invert = false) {}

  match(ctx: MatchContext): boolean {
    const r = this.mode === "and"
      ? this.rules.every((m) => m.match(ctx))
      : this.rules.some((m) => m.match(ctx));
    return r !== this.invert;
  }

  toString(): string {
    const s = this.rules.map((r) => `(${r})`).join(` ${this.mode}${" "}`);
    return this.invert ? `!(${s})` : s;
  }
}
