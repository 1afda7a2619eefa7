/**
 * `user` (sing-box `rule_item_user.go`, Linux): the user name owning the local socket that opened
 * the connection.
 *
 * @module
 */
import { ValueSetItem } from "./item.ts";

/** `user`. */
export class UserItem extends ValueSetItem<string> {
  constructor(users: string[]) {
    super("user", users, (ctx) => ctx.metadata.process?.user);
  }
}
