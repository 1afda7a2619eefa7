/**
 * An index from domains to rule positions, for routers with thousands of `domain` /
 * `domain_suffix`-only rules: {@linkcode DomainIndex.firstMatch} returns the first rule at or after
 * a position whose domain items match, in O(labels × log rules) instead of one test per rule.
 * Suffix semantics are those of sing-box: `a.com` matches itself and subdomains, `.a.com` only
 * subdomains.
 *
 * @module
 */

/** Rule positions registered under one name, each list ascending. */
interface Entry {
  /** `domain` equal to the name. */
  exact?: number[];
  /** `domain_suffix` matching the name and its subdomains. */
  suffix?: number[];
  /** `.name` suffixes: subdomains only. */
  subOnly?: number[];
}

/** Index of the first element ≥ `from` in an ascending list (`list.length` when none). */
export function lowerBoundIndex(list: readonly number[], from: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBound(list: number[], from: number): number | undefined {
  return from <= list[0]! ? list[0] : list[lowerBoundIndex(list, from)];
}

function push(map: Map<string, Entry>, key: string, kind: keyof Entry, index: number): void {
  let e = map.get(key);
  if (!e) map.set(key, e = {});
  const list = e[kind];
  if (!list) e[kind] = [index];
  else if (list[list.length - 1] !== index) list.push(index);
}

function earliest(best: number | undefined, list: number[] | undefined, from: number): number | undefined {
  if (!list) return best;
  const v = lowerBound(list, from);
  return v !== undefined && (best === undefined || v < best) ? v : best;
}

/** Bit of a label count in {@linkcode DomainIndex}'s mask; 31 and more share the top bit. */
function labelBit(labels: number): number {
  return 1 << Math.min(labels, 31);
}

function countLabels(name: string): number {
  let n = 1;
  for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) n++;
  return n;
}

/** Domain → rule positions. Add rules in increasing position order. */
export class DomainIndex {
  readonly #names = new Map<string, Entry>();
  /** Label counts of the registered names: lookups skip suffixes no name can equal. */
  #labels = 0;

  /** Registers rule `index` with its `domain` and `domain_suffix` values. */
  add(index: number, domains: readonly string[], suffixes: readonly string[]): void {
    const put = (name: string, kind: keyof Entry) => {
      push(this.#names, name, kind, index);
      this.#labels |= labelBit(countLabels(name));
    };
    for (const d of domains) put(d.toLowerCase(), "exact");
    for (const s of suffixes) {
      const v = s.toLowerCase();
      if (v.startsWith(".")) put(v.slice(1), "subOnly");
      else put(v, "suffix");
    }
  }

  /** The smallest rule position ≥ `from` matching `domain` (lower-case, no trailing dot). */
  firstMatch(domain: string, from = 0): number | undefined {
    let best: number | undefined;
    let labels = countLabels(domain);
    if (this.#labels & labelBit(labels)) {
      const own = this.#names.get(domain);
      if (own) best = earliest(earliest(best, own.exact, from), own.suffix, from);
    }
    for (let i = domain.indexOf("."); i >= 0; i = domain.indexOf(".", i + 1)) {
      if (!(this.#labels & labelBit(--labels))) continue;
      const e = this.#names.get(domain.slice(i + 1));
      if (e) best = earliest(earliest(best, e.suffix, from), e.subOnly, from);
    }
    return best;
  }
}
