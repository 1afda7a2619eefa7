/**
 * `user_id` (sing-box `rule_item_user_id.go`, Linux): the numeric user id owning the local socket
 * that opened the connection.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `user_id`. */
export class UserIdItem implements RuleItem {
  readonly #ids: Set<number>;
  constructor(readonly ids: number[]) {
    this.#ids = new Set(ids);
  }
  match(ctx: MatchContext): boolean {
    const id = ctx.metadata.process?.userId;
    return id !== undefined && this.#ids.has(id);
  }
  toString(): string {
    return `user_id=${formatList(this.ids)}`;
  }
}
