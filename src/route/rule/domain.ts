/**
 * `domain` and `domain_suffix`: exact names and suffixes, matched with one set lookup per
 * label boundary (O(labels), independent of the number of entries). A suffix `example.com`
 * matches `example.com` and its subdomains; `.example.com` matches only subdomains.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** Exact-and-suffix domain matcher. */
export class DomainItem implements RuleItem {
  #exact: Set<string>;
  /** Entries that match the name itself or any subdomain. */
  #suffix: Set<string>;
  /** Entries (without their leading dot) that match subdomains only. */
  #subOnly: Set<string>;

  constructor(readonly domains: string[], readonly suffixes: string[]) {
    this.#exact = new Set(domains.map((d) => d.toLowerCase()));
    this.#suffix = new Set(suffixes.filter((s) => !s.startsWith(".")).map((s) => s.toLowerCase()));
    this.#subOnly = new Set(suffixes.filter((s) => s.startsWith(".")).map((s) => s.slice(1).toLowerCase()));
  }

  match(ctx: MatchContext): boolean {
    const d = ctx.domain;
    if (d === undefined) return false;
    if (this.#exact.has(d) || this.#suffix.has(d)) return true;
    for (let i = d.indexOf("."); i >= 0; i = d.indexOf(".", i + 1)) {
      const rest = d.slice(i + 1);
      if (this.#suffix.has(rest) || this.#subOnly.has(rest)) return true;
    }
    return false;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.domains.length) parts.push(`domain=${formatList(this.domains)}`);
    if (this.suffixes.length) parts.push(`domain_suffix=${formatList(this.suffixes)}`);
    return parts.join(" ");
  }
}
