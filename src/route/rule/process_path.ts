/**
 * `process_path` (sing-box `rule_item_process_path.go`): the full executable path of the local
 * process that opened the connection.
 *
 * @module
 */
import { ValueSetItem } from "./item.ts";

/** `process_path`. */
export class ProcessPathItem extends ValueSetItem<string> {
  constructor(paths: string[]) {
    super("process_path", paths, (ctx) => ctx.metadata.process?.path || undefined);
  }
}
