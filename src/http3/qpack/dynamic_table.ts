/**
 * The QPACK dynamic table (RFC 9204 §3.2): a FIFO of field lines addressed by absolute index
 * (0 for the first entry ever inserted), bounded by a capacity in bytes where each entry costs
 * `name.length + value.length + 32`. Eviction removes the oldest entries. Encoder and decoder each
 * keep one; the encoder adds its own reference tracking on top.
 *
 * @module
 */

/** Bytes each entry costs beyond its name and value (RFC 9204 §3.2.1). */
export const ENTRY_OVERHEAD = 32;

/** Returns the size of an entry for `name` and `value`. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

/** A dynamic table as a ring buffer of names and values. */
export class DynamicTable {
  #names: string[] = new Array(16);
  #values: string[] = new Array(16);
  #mask = 15;
  /** Current capacity in bytes (set by Set Dynamic Table Capacity). */
  capacity = 0;
  /** Sum of the sizes of the entries present. */
  size = 0;
  /** Number of entries ever inserted; the next entry gets this absolute index. */
  insertCount = 0;
  /** Absolute index of the oldest entry still present (= number of entries evicted). */
  dropped = 0;

  /** Number of entries present. */
  get length(): number {
    return this.insertCount - this.dropped;
  }

  /** Whether `abs` names an entry that is present. */
  has(abs: number): boolean {
    return abs >= this.dropped && abs < this.insertCount;
  }

  /** Name of the entry at absolute index `abs` (which must be present). */
  name(abs: number): string {
    return this.#names[abs & this.#mask];
  }

  /** Value of the entry at absolute index `abs` (which must be present). */
  value(abs: number): string {
    return this.#values[abs & this.#mask];
  }

  /** Size of the entry at absolute index `abs` (which must be present). */
  sizeOf(abs: number): number {
    return this.#names[abs & this.#mask].length + this.#values[abs & this.#mask].length + ENTRY_OVERHEAD;
  }

  /** Removes the oldest entry. */
  evictOldest(): void {
    const i = this.dropped & this.#mask;
    this.size -= this.#names[i].length + this.#values[i].length + ENTRY_OVERHEAD;
    this.#names[i] = "";
    this.#values[i] = "";
    this.dropped++;
  }

  /**
   * Appends an entry, evicting the oldest entries until it fits, and returns its absolute index.
   * The caller has checked that `entrySize(name, value) <= capacity` (and, on the encoder side,
   * that the entries to evict are evictable).
   */
  insert(name: string, value: string): number {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (this.size + size > this.capacity && this.length > 0) this.evictOldest();
    if (this.length === this.#mask + 1) this.#grow();
    const abs = this.insertCount++;
    this.#names[abs & this.#mask] = name;
    this.#values[abs & this.#mask] = value;
    this.size += size;
    return abs;
  }

  /** Sets the capacity, evicting the oldest entries until the table fits. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
    while (this.size > capacity) this.evictOldest();
  }

  #grow(): void {
    const oldMask = this.#mask;
    const cap = (oldMask + 1) * 2;
    const names = new Array<string>(cap);
    const values = new Array<string>(cap);
    for (let abs = this.dropped; abs < this.insertCount; abs++) {
      names[abs & (cap - 1)] = this.#names[abs & oldMask];
      values[abs & (cap - 1)] = this.#values[abs & oldMask];
    }
    this.#names = names;
    this.#values = values;
    this.#mask = cap - 1;
  }
}
