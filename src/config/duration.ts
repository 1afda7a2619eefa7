/**
 * Go-style duration strings as sing-box uses them (`"300ms"`, `"5s"`, `"1m30s"`, `"1h"`, `"1d"`).
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const PART_REGEXP = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;

/**
 * Parses a duration string into milliseconds.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("1m30s"); // 90000
 * ```
 * @param text a Go duration such as `"1m30s"` or `"0"`; `d` (days) is accepted as sing-box does
 * @returns milliseconds (may be fractional for `ns`/`us`)
 * @throws {SyntaxError} If the text is not a duration
 */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  let i = 0;
  let sign = 1;
  if (text[0] === "-" || text[0] === "+") {
    sign = text[0] === "-" ? -1 : 1;
    i = 1;
  }
  if (i >= text.length) throw new SyntaxError(`Cannot parse duration "${text}": empty`);
  let total = 0;
  while (i < text.length) {
    PART_REGEXP.lastIndex = i;
    const m = PART_REGEXP.exec(text);
    if (!m) throw new SyntaxError(`Cannot parse duration "${text}": expected <number><unit> at offset ${i}`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    i = PART_REGEXP.lastIndex;
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints durations (`1m30s`, `300ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? h + "h" : ""}${h || m ? m + "m" : ""}${+s.toFixed(3)}s`;
}
