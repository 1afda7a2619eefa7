/**
 * `user_id` (sing-box `rule_item_user_id.go`, Linux): the numeric user id owning the local socket
 * that opened the connection.
 *
 * @module
 */
import { ValueSetItem } from "./item.ts";

/** `user_id`. */
export class UserIdItem extends ValueSetItem<number> {
  constructor(ids: number[]) {
    super("user_id", ids, (ctx) => ctx.metadata.process?.userId);
  }
}
