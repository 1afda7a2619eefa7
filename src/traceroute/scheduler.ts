/**
 * The per-run schedulers (spec traceroute.md §6.1–§6.3): parallel (ICMP, UDP, SACK) and serial
 * (TCP SYN), plus hop materialisation. The parallel scheduler may end early once every TTL up to
 * the destination has answered (`earlyFinish`), which gives the same hops in less time.
 *
 * @module
 */
import type { Hop } from "./result.ts";
import { TimeoutError } from "./errors.ts";

/** A reply attributed to a probe, with its RTT. */
export interface ProbeResponse {
  ttl: number;
  ip: string;
  rttMs: number;
  isDest: boolean;
}

/** The I/O side of a run, as the schedulers see it. */
export interface TracerouteDriver {
  /** Sends the probe for `ttl`. Rejects on a fatal error. */
  sendProbe(ttl: number): Promise<void>;
  /**
   * Waits up to `timeoutMs` for one reply. Resolves null when nothing usable arrived (retryable);
   * rejects on a fatal error.
   */
  receiveProbe(timeoutMs: number): Promise<ProbeResponse | null>;
}

/** Scheduler timing. */
export interface SchedulerParams {
  minTtl: number;
  maxTtl: number;
  /** Parallel: base of the whole-run deadline. Serial: per-probe wait. */
  timeoutMs: number;
  /** Gap between sends: 50 ms, 10 ms for SACK. */
  sendDelayMs: number;
  /** @default 100 */
  pollMs?: number;
  /** End a parallel run once TTLs min..destination all answered. @default false */
  earlyFinish?: boolean;
  signal?: AbortSignal;
}

/** @throws {Error} If min TTL > max TTL or min TTL < 1 (reference messages). */
export function validateTtls(p: { minTtl: number; maxTtl: number }): void {
  if (p.minTtl > p.maxTtl) throw new Error("min TTL must be less than or equal to max TTL");
  if (p.minTtl < 1) throw new Error("min TTL must be at least 1");
}

function validateProbe(p: SchedulerParams, r: ProbeResponse): void {
  if (r.ttl < p.minTtl || r.ttl > p.maxTtl) {
    throw new Error(
      `ReceiveProbe() received an invalid TTL: expected TTL in [${p.minTtl}, ${p.maxTtl}], got ${r.ttl}`,
    );
  }
}

/** Whole-run deadline of a parallel run: timeout + delay × probe count. */
export function parallelDeadlineMs(p: SchedulerParams): number {
  const count = p.minTtl > p.maxTtl ? 0 : p.maxTtl - p.minTtl + 1;
  return p.timeoutMs + p.sendDelayMs * count;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Keeps the first reply per TTL, letting a destination reply replace a non-destination one. */
function store(results: (ProbeResponse | null)[], r: ProbeResponse): void {
  const prev = results[r.ttl];
  if (!prev || (!prev.isDest && r.isDest)) results[r.ttl] = r;
}

/** Cuts after the lowest destination TTL and drops indices below min TTL. */
export function clipResults(minTtl: number, results: (ProbeResponse | null)[]): (ProbeResponse | null)[] {
  const d = results.findIndex((r) => r?.isDest);
  return (d >= 0 ? results.slice(0, d + 1) : results).slice(minTtl);
}

function complete(p: SchedulerParams, results: (ProbeResponse | null)[]): boolean {
  const d = results.findIndex((r) => r?.isDest);
  if (d < 0) return false;
  for (let t = p.minTtl; t < d; t++) if (!results[t]) return false;
  return true;
}

/** Runs a parallel traceroute and returns the clipped per-TTL replies (index 0 = min TTL). */
export async function tracerouteParallel(
  driver: TracerouteDriver,
  p: SchedulerParams,
): Promise<(ProbeResponse | null)[]> {
  validateTtls(p);
  const poll = p.pollMs ?? 100;
  const results: (ProbeResponse | null)[] = new Array(p.maxTtl + 1).fill(null);
  const deadline = performance.now() + parallelDeadlineMs(p);
  const stopSend = new AbortController();
  const stopAll = new AbortController();
  const onExternal = () => stopAll.abort();
  p.signal?.addEventListener("abort", onExternal, { once: true });
  stopAll.signal.addEventListener("abort", () => stopSend.abort(), { once: true });
  let firstSent!: () => void;
  const hasSent = new Promise<void>((r) => firstSent = r);
  let failure: unknown;
  const fail = (e: unknown) => {
    if (failure === undefined) failure = e;
    stopAll.abort();
  };

  const sender = (async () => {
    try {
      for (let ttl = p.minTtl; ttl <= p.maxTtl; ttl++) {
        if (stopSend.signal.aborted) return;
        try {
          await driver.sendProbe(ttl);
        } catch (e) {
          throw new Error(`SendProbe() failed: ${(e as Error).message}`, { cause: e });
        }
        firstSent();
        await sleep(p.sendDelayMs, stopSend.signal);
      }
    } catch (e) {
      fail(e);
    } finally {
      firstSent();
    }
  })();

  const receiver = (async () => {
    await hasSent;
    try {
      while (!stopAll.signal.aborted) {
        // at the deadline, still take what was already captured (a busy event loop may not have
        // read it yet); then stop
        const left = Math.max(deadline - performance.now(), 0);
        let r: ProbeResponse | null;
        try {
          r = await driver.receiveProbe(Math.min(poll, Math.max(left, 1)));
        } catch (e) {
          throw new Error(`ReceiveProbe() failed: ${(e as Error).message}`, { cause: e });
        }
        if (!r) {
          if (left === 0) break;
          continue;
        }
        validateProbe(p, r);
        store(results, r);
        if (r.isDest) stopSend.abort();
        if (p.earlyFinish && complete(p, results)) break;
      }
    } catch (e) {
      fail(e);
    } finally {
      stopAll.abort();
    }
  })();

  await Promise.all([sender, receiver]);
  p.signal?.removeEventListener("abort", onExternal);
  if (failure !== undefined) throw failure;
  if (p.signal?.aborted) throw new TimeoutError("context canceled");
  return clipResults(p.minTtl, results);
}

/** Runs a serial traceroute (one probe in flight) and returns the clipped per-TTL replies. */
export async function tracerouteSerial(
  driver: TracerouteDriver,
  p: SchedulerParams,
): Promise<(ProbeResponse | null)[]> {
  validateTtls(p);
  const poll = p.pollMs ?? 100;
  const results: (ProbeResponse | null)[] = new Array(p.maxTtl + 1).fill(null);
  for (let ttl = p.minTtl; ttl <= p.maxTtl; ttl++) {
    if (p.signal?.aborted) break;
    const sendAt = performance.now();
    const until = sendAt + p.timeoutMs;
    try {
      await driver.sendProbe(ttl);
    } catch (e) {
      throw new Error(`SendProbe() failed: ${(e as Error).message}`, { cause: e });
    }
    let r: ProbeResponse | null = null;
    for (let last = false; !r && !last && !p.signal?.aborted;) {
      // the last wait (1 ms) takes a reply already captured but not yet read by a busy event loop
      const left = until - performance.now();
      last = left <= 0;
      try {
        r = await driver.receiveProbe(last ? 1 : Math.min(poll, left));
      } catch (e) {
        throw new Error(`ReceiveProbe() failed: ${(e as Error).message}`, { cause: e });
      }
    }
    if (r) {
      validateProbe(p, r);
      results[r.ttl] = r;
      if (r.isDest) break;
    }
    const wait = sendAt + p.sendDelayMs - performance.now();
    if (wait > 0) await sleep(wait, p.signal);
  }
  if (p.signal?.aborted) throw new TimeoutError("context canceled");
  return clipResults(p.minTtl, results);
}

/**
 * Turns clipped replies into hops numbered min TTL + i; missing replies become empty hops.
 * @throws {Error} If a reply's TTL does not match its slot.
 */
export function toHops(minTtl: number, probes: (ProbeResponse | null)[]): { hops: Hop[]; dest?: Hop } {
  const hops: Hop[] = [];
  let dest: Hop | undefined;
  probes.forEach((r, i) => {
    const ttl = minTtl + i;
    if (!r) {
      hops.push({ ttl, ip_address: "", rtt: 0, reachable: false });
      return;
    }
    if (r.ttl !== ttl) throw new Error(`probe TTL mismatch: expected ${ttl}, got ${r.ttl}`);
    const hop: Hop = { ttl, ip_address: r.ip, rtt: r.rttMs, reachable: false };
    if (r.isDest && !dest) dest = hop;
    hops.push(hop);
  });
  return { hops, dest };
}
