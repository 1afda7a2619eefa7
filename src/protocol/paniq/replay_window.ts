/**
 * Transport counter replay filter (paniq.md §5.3): WireGuard / RFC 6479, a ring of 128
 * 64-bit blocks for a window of (128−1)·64 = 8128 counters.
 *
 * @module
 */
import { REJECT_AFTER_MESSAGES } from "./constants.ts";

const BLOCK_BIT_LOG = 6n;
const RING_BLOCKS = 128n;
/** Window width in counters. */
export const WINDOW_SIZE = Number((RING_BLOCKS - 1n) * 64n);

/** A sliding-window replay filter. Starts empty. */
export class ReplayFilter {
  #last = 0n;
  // Each 64-bit block is two uint32 words: [lo, hi].
  readonly #ring = new Uint32Array(Number(RING_BLOCKS) * 2);

  /** Clears the filter. */
  reset(): void {
    this.#last = 0n;
    this.#ring.fill(0);
  }

  /** Accepts `counter` once; rejects replays, counters ≥ `limit` and ones older than the window. */
  validate(counter: bigint, limit: bigint = REJECT_AFTER_MESSAGES): boolean {
    if (counter >= limit) return false;
    const indexBlock = counter >> BLOCK_BIT_LOG;
    if (counter > this.#last) {
      const current = this.#last >> BLOCK_BIT_LOG;
      let diff = indexBlock - current;
      if (diff > RING_BLOCKS) diff = RING_BLOCKS;
      for (let i = current + 1n; i <= current + diff; i++) {
        const b = Number(i & (RING_BLOCKS - 1n)) * 2;
        this.#ring[b] = 0;
        this.#ring[b + 1] = 0;
      }
      this.#last = counter;
    } else if (this.#last - counter > BigInt(WINDOW_SIZE)) {
      return false;
    }
    const b = Number(indexBlock & (RING_BLOCKS - 1n)) * 2;
    const bit = Number(counter & 63n);
    const word = b + (bit >> 5);
    const mask = (1 << (bit & 31)) >>> 0;
    if ((this.#ring[word] & mask) !== 0) return false;
    this.#ring[word] |= mask;
    return true;
  }
}
