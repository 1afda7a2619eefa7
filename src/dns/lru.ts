/**
 * A least-recently-used map with optional per-entry lifetimes and an injected clock, for the
 * DNS cache and the reverse mapping (sing-box uses `freelru` for both).
 *
 * @module
 */

/** Milliseconds since an arbitrary origin; `Date.now` by default, a fake in tests. */
export type Clock = () => number;

interface Entry<V> {
  value: V;
  /** Absolute expiry in clock milliseconds, `Infinity` for none. */
  expireAt: number;
}

/** An LRU map. Reads refresh recency; expired entries read as absent and are dropped. */
export class LruCache<K, V> {
  readonly capacity: number;
  readonly #map = new Map<K, Entry<V>>();
  readonly #clock: Clock;

  /**
   * @param capacity maximum number of entries; the least recently used is evicted past it
   * @param clock time source in milliseconds
   */
  constructor(capacity: number, clock: Clock = Date.now) {
    if (!(capacity >= 1)) {
      throw new RangeError(`Cannot create LRU cache with capacity ${capacity}: must be >= 1`);
    }
    this.capacity = capacity;
    this.#clock = clock;
  }

  /** Number of entries, expired ones included until they are touched. */
  get size(): number {
    return this.#map.size;
  }

  /** Stores `value`; `lifetimeMs` undefined means it never expires. */
  set(key: K, value: V, lifetimeMs?: number): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expireAt: lifetimeMs === undefined ? Infinity : this.#clock() + lifetimeMs });
    if (this.#map.size > this.capacity) {
      const oldest = this.#map.keys().next().value as K;
      this.#map.delete(oldest);
    }
  }

  /** The value, or `undefined` when absent or expired. */
  get(key: K): V | undefined {
    return this.getWithExpiry(key)?.value;
  }

  /** The value and its absolute expiry time, or `undefined` when absent or expired. */
  getWithExpiry(key: K): { value: V; expireAt: number } | undefined {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expireAt <= this.#clock()) {
      this.#map.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, entry);
    return entry;
  }

  /** Removes one key. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes everything. */
  clear(): void {
    this.#map.clear();
  }
}
