/**
 * `domain` and `domain_suffix`: exact names and suffixes, looked up in a
 * {@linkcode DomainIndex} (O(labels), independent of the number of entries). A suffix
 * `example.com` matches `example.com` and its subdomains; `.example.com` matches only subdomains.
 *
 * @module
 */
import { DomainIndex } from "../rule_set/domain_index.ts";
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** Exact-and-suffix domain matcher. */
export class DomainItem implements RuleItem {
  readonly #index = new DomainIndex();

  constructor(readonly domains: string[], readonly suffixes: string[]) {
    this.#index.add(0, domains, suffixes);
  }

  match(ctx: MatchContext): boolean {
    const d = ctx.domain;
    return d !== undefined && this.#index.firstMatch(d) !== undefined;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.domains.length) parts.push(`domain=${formatList(this.domains)}`);
    if (this.suffixes.length) parts.push(`domain_suffix=${formatList(this.suffixes)}`);
    return parts.join(" ");
  }
}
