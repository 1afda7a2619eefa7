/**
 * An index from domains to rule positions, for routers with thousands of `domain` /
 * `domain_suffix`-only rules: {@linkcode DomainIndex.firstMatch} returns the first rule at or after
 * a position whose domain items match, in O(labels × log rules) instead of one test per rule.
 * Suffix semantics are those of sing-box: `a.com` matches itself and subdomains, `.a.com` only
 * subdomains.
 *
 * @module
 */

function lowerBound(list: number[], from: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo] : undefined;
}

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

/** Domain → rule positions. Add rules in increasing position order. */
export class DomainIndex {
  readonly #exact = new Map<string, number[]>();
  readonly #suffix = new Map<string, number[]>();
  readonly #subOnly = new Map<string, number[]>();

  /**
   * Registers rule `index` with its `domain` and `domain_suffix` values.
   *
   * @throws {RangeError} If `index` is lower than a previously added one
   */
  add(index: number, domains: readonly string[], suffixes: readonly string[]): void {
    for (const d of domains) push(this.#exact, d.toLowerCase(), index);
    for (const s of suffixes) {
      const v = s.toLowerCase();
      if (v.startsWith(".")) push(this.#subOnly, v.slice(1), index);
      else push(this.#suffix, v, index);
    }
  }

  /** The smallest rule position ≥ `from` matching `domain` (lower-case, no trailing dot). */
  firstMatch(domain: string, from = 0): number | undefined {
    let best: number | undefined;
    const take = (list: number[] | undefined) => {
      if (!list) return;
      const v = lowerBound(list, from);
      if (v !== undefined && (best === undefined || v < best)) best = v;
    };
    take(this.#exact.get(domain));
    take(this.#suffix.get(domain));
    for (let i = domain.indexOf("."); i >= 0; i = domain.indexOf(".", i + 1)) {
      const rest = domain.slice(i + 1);
      take(this.#suffix.get(rest));
      take(this.#subOnly.get(rest));
    }
    return best;
  }
}
