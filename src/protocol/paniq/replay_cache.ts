/**
 * The server's `<t>` replay cache (paniq.md §5.1 step 10): an LRU of 32-byte keys,
 * key = SHA-256(t as u32 BE ‖ SHA-256(initiation payload) ‖ X).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** Computes the cache key. `extra` is the 16 bytes at frame offset S1+4 when MAC1 is on. */
export function replayKey(timestamp: number, payload: Uint8Array, extra: Uint8Array): string {
  const buf = new Uint8Array(4 + 32 + extra.length);
  new DataView(buf.buffer).setUint32(0, timestamp >>> 0);
  buf.set(sha256(payload), 4);
  buf.set(extra, 36);
  let s = "";
  for (const b of sha256(buf)) s += b.toString(16).padStart(2, "0");
  return s;
}

/** LRU set with a fixed capacity. */
export class ReplayCache {
  readonly capacity: number;
  #entries = new Map<string, true>();

  constructor(capacity: number) {
    this.capacity = capacity > 0 ? capacity : 4096;
  }

  /** Marks `key`; returns whether it was already present and how many entries were evicted. */
  seen(key: string): { replayed: boolean; evicted: number } {
    if (this.#entries.has(key)) {
      this.#entries.delete(key);
      this.#entries.set(key, true);
      return { replayed: true, evicted: 0 };
    }
    this.#entries.set(key, true);
    let evicted = 0;
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      evicted++;
    }
    return { replayed: false, evicted };
  }

  /** True if `key` is present (does not refresh it). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Empties the cache. */
  reset(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
