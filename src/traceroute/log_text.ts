/**
 * Log text helpers.
 *
 * @module
 */

/**
 * Escapes `{` and `}` for LogTape, which reads them as message placeholders: a JSON dump or an
 * error text would otherwise print as `undefined`.
 *
 * @example Usage
 * ```ts
 * import { escapeBraces } from "./log_text.ts";
 * escapeBraces('params: {"a":1}'); // 'params: {{"a":1}}'
 * ```
 */
export function escapeBraces(m: string): string {
  return m.replace(/[{}]/g, (c) => c + c);
}
