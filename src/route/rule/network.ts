import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `network`: tcp or udp. */
export class NetworkItem implements RuleItem {
  constructor(readonly networks: string[]) {}
  match(ctx: MatchContext): boolean {
    return this.networks.includes(ctx.metadata.network);
  }
  toString(): string {
    return `network=${formatList(this.networks)}`;
  }
}
