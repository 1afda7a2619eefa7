/**
 * Which member a urltest group uses (sing-box `URLTestGroup.Select`), as a pure function of the
 * members, the current choice and the measured delays.
 *
 * @module
 */
import type { Network, Outbound } from "../../adapter/types.ts";

/** Outcome of {@linkcode selectMember}. */
export interface Selection {
  /** The member to use, or undefined when no member carries the network. */
  outbound?: Outbound;
  /** True when the choice rests on a measured delay (false: the first member, untested). */
  tested: boolean;
}

/**
 * Picks the member with the lowest delay for `network`. The current member stays unless another
 * is faster by more than `tolerance` ms; untested members are skipped. With no delay known, the
 * first member carrying `network` is returned untested.
 *
 * @param delayOf a member's last measured delay, ms, or undefined when untested or failed
 * @example Usage
 * ```ts ignore
 * const { outbound } = selectMember(members, current, "tcp", 50, (o) => history.load(o.tag)?.delay);
 * ```
 */
export function selectMember(
  members: readonly Outbound[],
  current: Outbound | undefined,
  network: Network,
  tolerance: number,
  delayOf: (o: Outbound) => number | undefined,
): Selection {
  let best: Outbound | undefined;
  let bestDelay = 0;
  const currentDelay = current ? delayOf(current) : undefined;
  if (current && currentDelay !== undefined) {
    best = current;
    bestDelay = currentDelay;
  }
  for (const o of members) {
    if (!o.network.includes(network)) continue;
    const delay = delayOf(o);
    if (delay === undefined) continue;
    if (best === undefined || bestDelay > delay + tolerance) {
      best = o;
      bestDelay = delay;
    }
  }
  if (best) return { outbound: best, tested: true };
  return { outbound: members.find((o) => o.network.includes(network)), tested: false };
}
