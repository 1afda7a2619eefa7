import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `auth_user`: the user name the inbound authenticated. */
export class AuthUserItem implements RuleItem {
  #users: Set<string>;
  constructor(readonly users: string[]) {
    this.#users = new Set(users);
  }
  match(ctx: MatchContext): boolean {
    return ctx.metadata.user !== undefined && this.#users.has(ctx.metadata.user);
  }
  toString(): string {
    return `auth_user=${formatList(this.users)}`;
  }
}
