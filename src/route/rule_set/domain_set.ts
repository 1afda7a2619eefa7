/**
 * The `.srs` domain item (id 2): `domain` and `domain_suffix` in one succinct set, as sing's
 * `domain.NewMatcher` builds it. Keys are reversed names; a `\r` (prefix label) marks "any
 * subdomain of", a `\n` (root label, version 2+) marks "this name or any subdomain of".
 * Version 1 writes a suffix `a.com` as the exact key plus `\r.a.com`.
 *
 * @module
 */
import {
  buildSuccinctSet,
  bytesToReversed,
  compareBytes,
  reverseToBytes,
  succinctKeys,
  type SuccinctSet,
} from "./succinct.ts";

const PREFIX_LABEL = "\r";
const ROOT_LABEL = "\n";

/** Builds the succinct set for `domain` and `domain_suffix` (sing `domain.NewMatcher`). */
export function buildDomainSet(
  domains: readonly string[],
  suffixes: readonly string[],
  legacy: boolean,
): SuccinctSet {
  const list: string[] = [];
  const seen = new Set<string>();
  for (const d of suffixes) {
    if (seen.has(d)) continue;
    seen.add(d);
    if (d.startsWith(".")) list.push(reverseToBytes(PREFIX_LABEL + d));
    else if (legacy) {
      list.push(reverseToBytes(d));
      const dotted = "." + d;
      if (!seen.has(dotted)) {
        seen.add(dotted);
        list.push(reverseToBytes(PREFIX_LABEL + dotted));
      }
    } else list.push(reverseToBytes(ROOT_LABEL + d));
  }
  for (const d of domains) {
    if (seen.has(d)) continue;
    seen.add(d);
    list.push(reverseToBytes(d));
  }
  list.sort(compareBytes);
  return buildSuccinctSet(list);
}

/** Recovers `domain` and `domain_suffix` lists, sorted (sing `Matcher.Dump`). */
export function dumpDomainSet(set: SuccinctSet): { domain: string[]; domainSuffix: string[] } {
  const domains = new Set<string>();
  const prefixes = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of succinctKeys(set)) {
    const key = bytesToReversed(raw);
    if (key.startsWith(PREFIX_LABEL)) prefixes.add(key.slice(1));
    else if (key.startsWith(ROOT_LABEL)) suffixes.push(key.slice(1));
    else domains.add(key);
  }
  for (const p of prefixes) {
    if (p.startsWith(".") && domains.has(p.slice(1))) {
      domains.delete(p.slice(1));
      suffixes.push(p.slice(1));
      continue;
    }
    suffixes.push(p);
  }
  return { domain: [...domains].sort(compareBytes), domainSuffix: suffixes.sort(compareBytes) };
}
