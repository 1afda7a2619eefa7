/**
 * The generic I/O driver behind every protocol: the platform pushes matched replies (or fatal
 * errors) as they are read from the shared poller, and the scheduler pulls them with a timeout.
 * RTT = kernel receive timestamp − send time of the TTL's probe, both on CLOCK_REALTIME, so event
 * loop delays (start-up, other runs) do not inflate RTTs.
 *
 * @module
 */
import type { ProbeResponse, TracerouteDriver } from "../scheduler.ts";
import type { ProbeMatch } from "../probe/types.ts";
import { realtimeNs } from "../../../ffi/libc.ts";

type Event = { match: ProbeMatch; timeNs: number } | { fatal: unknown };

/** A {@linkcode TracerouteDriver} fed by callbacks. */
export class QueueDriver implements TracerouteDriver {
  #events: Event[] = [];
  #waiter: (() => void) | null = null;
  #sendTimes = new Map<number, number>();
  #send: (ttl: number) => void | Promise<void>;
  #clock: () => number;

  /**
   * @param send writes the probe for a TTL (throws on a fatal send error)
   * @param clock the clock of the receive timestamps pushed later, in integer ns
   */
  constructor(send: (ttl: number) => void | Promise<void>, clock: () => number = realtimeNs) {
    this.#send = send;
    this.#clock = clock;
  }

  async sendProbe(ttl: number): Promise<void> {
    this.#sendTimes.set(ttl, this.#clock());
    await this.#send(ttl);
  }

  /** Called by the platform with a reply attributed to a TTL, stamped when it was read. */
  pushMatch(match: ProbeMatch, timeNs: number): void {
    this.#push({ match, timeNs });
  }

  /** Called by the platform when matching failed fatally (the run fails). */
  pushFatal(err: unknown): void {
    this.#push({ fatal: err });
  }

  #push(e: Event): void {
    this.#events.push(e);
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async receiveProbe(timeoutMs: number): Promise<ProbeResponse | null> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const e = this.#events.shift();
      if (e) {
        if ("fatal" in e) throw e.fatal;
        const sent = this.#sendTimes.get(e.match.ttl);
        if (sent === undefined) continue; // no probe for that TTL: not ours
        return { ...e.match, rttMs: Math.max(e.timeNs - sent, 0) / 1e6 };
      }
      const left = until - performance.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#waiter = null;
          resolve();
        }, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
