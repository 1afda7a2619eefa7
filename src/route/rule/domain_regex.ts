import { ConfigError } from "../../common/errors.ts";
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/**
 * Compiles the patterns of a regex field.
 * @param path JSON path of the field, for the error
 * @throws {ConfigError} If a pattern is not a valid regular expression (path names its index)
 */
export function compileRegexps(patterns: readonly string[], path: string): RegExp[] {
  return patterns.map((p, i) => {
    try {
      return new RegExp(p);
    } catch (e) {
      throw new ConfigError(`${path}[${i}]`, `invalid regular expression: ${(e as Error).message}`);
    }
  });
}

/** `domain_regex`: the domain matches one of the regular expressions. */
export class DomainRegexItem implements RuleItem {
  #regexps: RegExp[];
  /**
   * @param path JSON path of the field, for the error
   * @throws {ConfigError} If a pattern is not a valid regular expression
   */
  constructor(readonly patterns: string[], path: string) {
    this.#regexps = compileRegexps(patterns, path);
  }
  match(ctx: MatchContext): boolean {
    const d = ctx.domain;
    return d !== undefined && this.#regexps.some((r) => r.test(d));
  }
  toString(): string {
    return `domain_regex=${formatList(this.patterns)}`;
  }
}
