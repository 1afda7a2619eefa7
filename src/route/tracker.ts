/**
 * Live connections, for graceful shutdown and (later) the Clash API `/connections`.
 *
 * @module
 */
import type { Metadata } from "../adapter/types.ts";
import type { RelayCounters } from "../common/relay.ts";

/** One tracked connection. */
export interface TrackedConnection {
  /** Random 32-bit id, printed in logs as sing-box does. */
  id: number;
  metadata: Metadata;
  /** Matched rule in config syntax, or `"final"`. */
  rule: string;
  /** Tag of the outbound carrying it. */
  outbound: string;
  /** Start time, ms since the epoch. */
  start: number;
  counters: RelayCounters;
  /** Aborting closes the connection at once. */
  abort: AbortController;
}

/** The set of live connections. */
export class ConnectionTracker {
  #live = new Map<number, TrackedConnection>();
  #idle: (() => void)[] = [];

  /** Adds a connection; returns a function that removes it. */
  add(c: TrackedConnection): () => void {
    this.#live.set(c.id, c);
    return () => {
      this.#live.delete(c.id);
      if (this.#live.size === 0) { for (const w of this.#idle.splice(0)) w(); }
    };
  }

  /** Live connections, oldest first. */
  list(): TrackedConnection[] {
    return [...this.#live.values()];
  }

  get size(): number {
    return this.#live.size;
  }

  /** Closes every live connection. */
  closeAll(): void {
    for (const c of this.#live.values()) c.abort.abort();
  }

  /** Resolves true when no connection is left, or false after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#live.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idle = this.#idle.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.#idle.push(done);
    });
  }
}
