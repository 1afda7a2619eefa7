/**
 * `process_path_regex` (sing-box `rule_item_process_path_regex.go`): the executable path of the
 * local process matches one of the regular expressions.
 *
 * @module
 */
import { compileRegexps } from "./domain_regex.ts";
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/** `process_path_regex`. */
export class ProcessPathRegexItem implements RuleItem {
  readonly #regexps: RegExp[];
  /**
   * @param path JSON path of the field, for the error
   * @throws {ConfigError} If a pattern is not a valid regular expression
   */
  constructor(readonly patterns: string[], path: string) {
    this.#regexps = compileRegexps(patterns, path);
  }
  match(ctx: MatchContext): boolean {
    const p = ctx.metadata.process?.path;
    return !!p && this.#regexps.some((r) => r.test(p));
  }
  toString(): string {
    return `process_path_regex=${formatList(this.patterns)}`;
  }
}
