/**
 * Cryptographic randomness for the envelope, drawn from a refilled pool so the per-packet
 * path does not call `crypto.getRandomValues` for every few bytes. Tests can swap the source
 * with {@linkcode setRandomSource}.
 *
 * @module
 */

/** Fills `buf` with random bytes. */
export type RandomSource = (buf: Uint8Array) => void;

const POOL_SIZE = 64 * 1024;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

function cryptoSource(buf: Uint8Array): void {
  for (let off = 0; off < buf.length; off += 65536) {
    crypto.getRandomValues(buf.subarray(off, Math.min(buf.length, off + 65536)));
  }
}

let source: RandomSource | null = null;

/** Replaces the random source (tests only); `null` restores the crypto pool. */
export function setRandomSource(s: RandomSource | null): void {
  source = s;
}

/** Fills `buf` with random bytes. */
export function fillRandom(buf: Uint8Array): void {
  fillRandomAt(buf, 0, buf.length);
}

/**
 * Fills `buf[offset, offset + n)` with random bytes: the same draws as `fillRandom` on that range,
 * without allocating a view for per-packet sizes.
 */
export function fillRandomAt(buf: Uint8Array, offset: number, n: number): void {
  if (source) return source(buf.subarray(offset, offset + n));
  if (n > POOL_SIZE / 4) return cryptoSource(buf.subarray(offset, offset + n));
  if (poolOffset + n > POOL_SIZE) {
    cryptoSource(pool);
    poolOffset = 0;
  }
  if (n <= 128) {
    // Per-packet sizes (prefix padding, transport padding): a loop beats allocating a view.
    for (let i = 0; i < n; i++) buf[offset + i] = pool[poolOffset + i];
  } else {
    buf.set(pool.subarray(poolOffset, poolOffset + n), offset);
  }
  poolOffset += n;
}

/** Returns `n` fresh random bytes. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  fillRandom(out);
  return out;
}

const u32buf = new Uint8Array(4);
/** A uniform random uint32. */
export function randomUint32(): number {
  if (!source && poolOffset + 4 <= POOL_SIZE) {
    const o = poolOffset;
    poolOffset += 4;
    return (pool[o] | (pool[o + 1] << 8) | (pool[o + 2] << 16) | (pool[o + 3] << 24)) >>> 0;
  }
  fillRandom(u32buf);
  return (u32buf[0] | (u32buf[1] << 8) | (u32buf[2] << 16) | (u32buf[3] << 24)) >>> 0;
}

/**
 * A random integer in `[min, max]` (inclusive) computed as Go does: `min + u32 % span`.
 * Returns `min` when `max <= min`.
 */
export function randomRange(min: number, max: number): number {
  if (max <= min) return min;
  const span = max - min + 1;
  if (span > 0x1_0000_0000) {
    return min + Math.floor((randomUint32() * 0x1_0000_0000 + randomUint32()) % span);
  }
  return min + (randomUint32() % span);
}
