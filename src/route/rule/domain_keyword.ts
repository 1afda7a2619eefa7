import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `domain_keyword`: the domain contains one of the keywords. */
export class DomainKeywordItem implements RuleItem {
  #lower: string[];
  constructor(readonly keywords: string[]) {
    this.#lower = keywords.map((k) => k.toLowerCase());
  }
  match(ctx: MatchContext): boolean {
    const d = ctx.domain;
    return d !== undefined && this.#lower.some((k) => d.includes(k));
  }
  toString(): string {
    return `domain_keyword=${formatList(this.keywords)}`;
  }
}
