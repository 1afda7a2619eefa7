/**
 * Runs URL tests over a group's members, at most ten at a time, and records the results in the
 * shared history (sing-box `URLTestGroup.urlTest` and the Clash API's group delay handler).
 * Members that stand for the same real outbound are tested once.
 *
 * @module
 */
import type { Outbound, UrlTestHistoryStorage } from "../../adapter/types.ts";
import { errorMessage } from "../../common/errors.ts";
import type { Logger } from "../../common/log.ts";
import { realTag } from "../group/members.ts";
import { urlTest } from "./url_test.ts";

/** Tests run in parallel at most. */
const CONCURRENCY = 10;

/** Options of {@linkcode testMembers}. */
export interface TestMembersOptions {
  /** URL to test; empty means the default URL. */
  link: string;
  history: UrlTestHistoryStorage;
  /** Outbounds by tag, to test the real outbound behind a group member. */
  lookup: (tag: string) => Outbound | undefined;
  logger?: Logger;
  signal?: AbortSignal;
  /** Limit of each test, ms. */
  timeoutMs?: number;
  /** Members whose last result is younger than this are skipped, ms. @default 0 */
  freshMs?: number;
  /** Extra PEM trust anchors for `https` tests. */
  caCerts?: string[];
}

/**
 * Tests `members` and stores each delay (or deletes the entry on failure) under the real tag.
 * @returns delays in ms by member tag, for the members that answered
 */
export async function testMembers(
  members: readonly Outbound[],
  o: TestMembersOptions,
): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  const jobs: { tag: string; real: string; target: Outbound }[] = [];
  const seen = new Set<string>();
  const now = Date.now();
  for (const m of members) {
    const real = realTag(m);
    if (seen.has(real)) continue;
    const h = o.history.load(real);
    if (o.freshMs && h && now - h.time < o.freshMs) continue;
    seen.add(real);
    jobs.push({ tag: m.tag, real, target: o.lookup(real) ?? m });
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !o.signal?.aborted) {
      const job = jobs[next++]!;
      try {
        const delay = await urlTest(job.target, o.link, {
          signal: o.signal,
          timeoutMs: o.timeoutMs,
          caCerts: o.caCerts,
        });
        o.logger?.debug(`outbound ${job.tag} available: ${delay}ms`);
        o.history.store(job.real, { time: Date.now(), delay });
        result[job.tag] = delay;
      } catch (e) {
        o.logger?.debug(`outbound ${job.tag} unavailable: ${errorMessage(e)}`);
        o.history.delete(job.real);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
  return result;
}
