import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `protocol` / `client`: a sniffed property equals one of the values. */
export class SniffedItem implements RuleItem {
  constructor(readonly key: "protocol" | "client", readonly values: string[]) {}
  match(ctx: MatchContext): boolean {
    const v = ctx.metadata[this.key];
    return v !== undefined && this.values.includes(v);
  }
  toString(): string {
    return `${this.key}=${formatList(this.values)}`;
  }
}
