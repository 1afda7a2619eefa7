import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `inbound`: the inbound's tag is one of the listed tags. */
export class InboundItem implements RuleItem {
  #tags: Set<string>;
  constructor(readonly tags: string[]) {
    this.#tags = new Set(tags);
  }
  match(ctx: MatchContext): boolean {
    return this.#tags.has(ctx.metadata.inbound);
  }
  toString(): string {
    return `inbound=${formatList(this.tags)}`;
  }
}
