/**
 * TAI64N timestamps with WireGuard's whitening (paniq.md §3.3): 8-byte BE
 * (0x400000000000000a + Unix seconds) ‖ 4-byte BE nanoseconds with the low 24 bits cleared.
 *
 * @module
 */

/** Encoded size. */
export const TAI64N_SIZE = 12;
/** TAI64 label offset: 2^62 + 10 s. */
export const TAI64N_BASE = 0x400000000000000an;
const WHITENER_MASK = 0x1000000 - 1;

/** Stamps `seconds` (Unix) plus `nanos` (0..1e9). */
export function tai64n(seconds: number, nanos: number): Uint8Array {
  const out = new Uint8Array(TAI64N_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, TAI64N_BASE + BigInt(Math.floor(seconds)));
  v.setUint32(8, (nanos & ~WHITENER_MASK) >>> 0);
  return out;
}

/** Stamps a millisecond wall-clock time (`Date.now()` style, fractions kept as nanoseconds). */
export function tai64nFromMillis(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  return tai64n(seconds, Math.round((ms - seconds * 1000) * 1e6));
}

/** True if `a` is strictly later than `b` (byte-wise comparison). */
export function tai64nAfter(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TAI64N_SIZE; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return false;
}
