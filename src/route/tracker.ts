/**
 * Live connections, for graceful shutdown and the Clash API `/connections` (spec sing-box.md
 * §5.1): each tracked connection carries what a snapshot shows (metadata, byte counters, start
 * time, outbound chain, matched rule), and the tracker keeps traffic totals that include
 * connections already closed.
 *
 * @module
 */
import { isOutboundGroup, type Metadata, type Outbound } from "../adapter/types.ts";
import type { RelayCounters } from "../common/relay.ts";

/** One tracked connection. */
export interface TrackedConnection {
  /** Random 32-bit id, printed in logs as sing-box does (the Clash API shows it as a string). */
  id: number;
  metadata: Metadata;
  /** Matched rule in config syntax with its action (`domain=[x] => route(proxy)`), or `"final"`. */
  rule: string;
  /** Tag of the outbound carrying it. */
  outbound: string;
  /**
   * Outbounds the connection goes through, innermost first: the member a group used, then the
   * group (sing-box tracker `Chain`, e.g. `["direct-a", "select"]`).
   */
  chains: string[];
  /** Start time, ms since the epoch. */
  start: number;
  counters: RelayCounters;
  /** Aborting closes the connection at once. */
  abort: AbortController;
}

/**
 * The chain of `outbound`: its tag, then each group's current member, reversed so the member
 * actually dialed comes first. Stops at an unknown tag or a repeated one.
 */
export function outboundChain(outbound: Outbound, lookup: (tag: string) => Outbound | undefined): string[] {
  const chain: string[] = [];
  let cur: Outbound | undefined = outbound;
  while (cur && !chain.includes(cur.tag)) {
    chain.push(cur.tag);
    cur = isOutboundGroup(cur) ? lookup(cur.now()) : undefined;
  }
  return chain.reverse();
}

/** The set of live connections. */
export class ConnectionTracker {
  #live = new Map<number, TrackedConnection>();
  #idle: (() => void)[] = [];
  #closedUpload = 0;
  #closedDownload = 0;

  /** Adds a connection; returns a function that removes it. */
  add(c: TrackedConnection): () => void {
    this.#live.set(c.id, c);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#closedUpload += c.counters.upload;
      this.#closedDownload += c.counters.download;
      if (this.#live.get(c.id) === c) this.#live.delete(c.id);
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

  /** Bytes uploaded and downloaded by every connection so far, live ones included. */
  totals(): RelayCounters {
    let upload = this.#closedUpload;
    let download = this.#closedDownload;
    for (const c of this.#live.values()) {
      upload += c.counters.upload;
      download += c.counters.download;
    }
    return { upload, download };
  }

  /**
   * Closes the live connection with `id`.
   * @returns false if there is none
   */
  close(id: number): boolean {
    const c = this.#live.get(id);
    c?.abort.abort();
    return c !== undefined;
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
