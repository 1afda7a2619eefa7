/**
 * `process_path` (sing-box `rule_item_process_path.go`): the full executable path of the local
 * process that opened the connection.
 *
 * @module
 */
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `process_path`. */
export class ProcessPathItem implements RuleItem {
  readonly #paths: Set<string>;
  constructor(readonly paths: string[]) {
    this.#paths = new Set(paths);
  }
  match(ctx: MatchContext): boolean {
    const path = ctx.metadata.process?.path;
    return !!path && this.#paths.has(path);
  }
  toString(): string {
    return `process_path=${formatList(this.paths)}`;
  }
}
