/**
 * Group match states (spec sing-box.md §3.2: "rule-sets referenced by a rule are merged into these
 * groups"). A *state* is a 4-bit mask of the address/port groups satisfied so far; a *state set*
 * is a 16-bit mask whose bit `s` says state `s` is reachable. A rule-set item receives the groups
 * its rule already satisfied (the base) and hands back the states its matching rules reach, so a
 * `domain_suffix` in the rule and a `domain` in the set are alternatives of one group.
 *
 * sing-box 1.12 threads the same information through mutable `InboundContext` flags; sibling
 * rules of one rule-set can then see each other's partial results. Sets of states give the
 * intended meaning without that order dependence (later sing-box versions made the same change).
 * All operations are monotone, so matching reduces to "is the final set non-empty".
 *
 * @module
 */

/** Source address group satisfied (`source_ip_cidr`, `source_ip_is_private`). */
export const SOURCE_ADDRESS = 1;
/** Source port group satisfied (`source_port`, `source_port_range`). */
export const SOURCE_PORT = 2;
/** Destination address group satisfied (`domain*`, `ip_cidr`, `ip_is_private`). */
export const DESTINATION_ADDRESS = 4;
/** Destination port group satisfied (`port`, `port_range`). */
export const DESTINATION_PORT = 8;

/** A set of reachable states (bit `s` ⇔ state `s`); 0 means "no match". */
export type StateSet = number;

/** The set holding only `state` (0..15). */
export function single(state: number): StateSet {
  return 1 << state;
}

/** Every state of `set` with the groups of `base` added. */
export function withBase(set: StateSet, base: number): StateSet {
  if (base === 0) return set;
  let out = 0;
  for (let s = 0; s < 16; s++) if (set & (1 << s)) out |= 1 << (s | base);
  return out;
}

/** All unions of one state from `a` and one from `b` (both sub-rules of an `and` matched). */
export function combine(a: StateSet, b: StateSet): StateSet {
  if (a === 0 || b === 0) return 0;
  let out = 0;
  for (let l = 0; l < 16; l++) {
    if (!(a & (1 << l))) continue;
    for (let r = 0; r < 16; r++) if (b & (1 << r)) out |= 1 << (l | r);
  }
  return out;
}

/** The states of `set` that contain every group of `required`. */
export function requireGroups(set: StateSet, required: number): StateSet {
  if (required === 0) return set;
  let out = 0;
  for (let s = 0; s < 16; s++) if (set & (1 << s) && (s & required) === required) out |= 1 << s;
  return out;
}
