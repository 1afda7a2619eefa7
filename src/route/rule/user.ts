/**
 * `user` (sing-box `rule_item_user.go`, Linux): the user name owning the local socket that opened
 * the connection.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `user`. */
export class UserItem implements RuleItem {
  readonly #users: Set<string>;
  constructor(readonly users: string[]) {
    this.#users = new Set(users);
  }
  match(ctx: MatchContext): boolean {
    const user = ctx.metadata.process?.user;
    return user !== undefined && this.#users.has(user);
  }
  toString(): string {
    return `user=${formatList(this.users)}`;
  }
}
