/**
 * `process_name` (sing-box `rule_item_process_name.go`): the base name of the executable of the
 * local process that opened the connection. Never matches when no process was found.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `process_name`. */
export class ProcessNameItem implements RuleItem {
  readonly #names: Set<string>;
  constructor(readonly names: string[]) {
    this.#names = new Set(names);
  }
  match(ctx: MatchContext): boolean {
    const path = ctx.metadata.process?.path;
    return !!path && this.#names.has(path.slice(path.lastIndexOf("/") + 1));
  }
  toString(): string {
    return `process_name=${formatList(this.names)}`;
  }
}
