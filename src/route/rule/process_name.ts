/**
 * `process_name` (sing-box `rule_item_process_name.go`): the base name of the executable of the
 * local process that opened the connection. Never matches when no process was found.
 *
 * @module
 */
import { type MatchContext, ValueSetItem } from "./item.ts";

function baseName(ctx: MatchContext): string | undefined {
  const path = ctx.metadata.process?.path;
  return path ? path.slice(path.lastIndexOf("/") + 1) : undefined;
}

/** `process_name`. */
export class ProcessNameItem extends ValueSetItem<string> {
  constructor(names: string[]) {
    super("process_name", names, baseName);
  }
}
