/**
 * Merging several config documents (`-c a.json -c b.json`, `-C dir`), as sing-box does:
 * objects merge key by key recursively, arrays are concatenated, and any other value from a
 * later document replaces the earlier one.
 *
 * @module
 */

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Merges `next` into `base` and returns a new value; neither input is modified.
 *
 * @example Usage
 * ```ts
 * import { mergeJson } from "./merge.ts";
 * mergeJson({ inbounds: [{ type: "mixed" }] }, { inbounds: [{ type: "socks" }] });
 * // { inbounds: [{ type: "mixed" }, { type: "socks" }] }
 * ```
 */
export function mergeJson(base: Json, next: Json): Json {
  if (Array.isArray(base) && Array.isArray(next)) return [...base, ...next];
  if (isObject(base) && isObject(next)) {
    const out: { [key: string]: Json } = { ...base };
    for (const [k, v] of Object.entries(next)) {
      out[k] = k in out ? mergeJson(out[k]!, v) : v;
    }
    return out;
  }
  return next;
}
