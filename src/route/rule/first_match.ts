/**
 * First-match search over an ordered rule list. Plain `domain`/`domain_suffix` rules (not
 * inverted, nothing else) go into one {@linkcode DomainIndex}; only the other rules are tested one
 * by one. A lookup costs O(labels × log rules) plus one test per other rule, so thousands of
 * domain rules cost about as much as one (project target: 10,000 `domain_suffix` rules,
 * ≥ 1 M matches/s; `bench/rules.ts`).
 *
 * @module
 */
import { DomainIndex, lowerBoundIndex } from "../rule_set/domain_index.ts";
import { DefaultMatcher, type Matcher } from "./default_rule.ts";
import type { MatchContext } from "./item.ts";

/** Finds the first matching rule at or after a position. */
export class FirstMatch {
  readonly #matchers: readonly Matcher[];
  readonly #index = new DomainIndex();
  readonly #indexed: boolean;
  /** Positions of the rules that are not in the index, ascending. */
  readonly #others: number[] = [];

  constructor(matchers: readonly Matcher[]) {
    this.#matchers = matchers;
    let indexed = false;
    matchers.forEach((m, i) => {
      const d = m instanceof DefaultMatcher ? m.domainOnly : undefined;
      if (d) {
        this.#index.add(i, d.domains, d.suffixes);
        indexed = true;
      } else this.#others.push(i);
    });
    this.#indexed = indexed;
  }

  /** Position of the first rule at or after `from` that matches `ctx`, or -1. */
  find(ctx: MatchContext, from = 0): number {
    const hit = this.#indexed && ctx.domain !== undefined
      ? this.#index.firstMatch(ctx.domain, from)
      : undefined;
    const others = this.#others;
    for (let k = lowerBoundIndex(others, from); k < others.length; k++) {
      const p = others[k]!;
      if (hit !== undefined && hit < p) return hit;
      if (this.#matchers[p]!.match(ctx)) return p;
    }
    return hit ?? -1;
  }
}
