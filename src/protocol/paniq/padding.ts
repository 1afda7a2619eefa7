/**
 * Transport padding policy (paniq.md §4.4, §5.2): normal range, burst range with a per-packet
 * probability, clamped to the envelope budget.
 *
 * @module
 */
import { randomRange, randomUint32 } from "./random.ts";

/** The resolved policy. */
export interface PaddingPolicy {
  min: number;
  max: number;
  burstMin: number;
  burstMax: number;
  burstProb: number;
}

/** The `transport_padding` JSON block as written (every field optional). */
export interface TransportPaddingConfig {
  pad_min?: number | null;
  pad_max?: number | null;
  pad_burst_min?: number | null;
  pad_burst_max?: number | null;
  pad_burst_prob?: number | null;
}

/** Defaults when the whole block is absent: 0/64/128/256/0.02. */
export const DEFAULT_PADDING: Readonly<PaddingPolicy> = {
  min: 0,
  max: 64,
  burstMin: 128,
  burstMax: 256,
  burstProb: 0.02,
};

/** Padding is on iff `max > 0 || burstProb > 0`. */
export function paddingEnabled(p: PaddingPolicy): boolean {
  return p.max > 0 || p.burstProb > 0;
}

/**
 * Resolves a block: all fields absent gives the defaults; otherwise absent fields are 0.
 *
 * @throws {RangeError} On negative values, max < min, prob outside [0,1], or prob > 0 with burst_max 0
 */
export function resolvePadding(c: TransportPaddingConfig | undefined | null): PaddingPolicy {
  const b = c ?? {};
  const has = (v: unknown) => v !== undefined && v !== null;
  const any = has(b.pad_min) || has(b.pad_max) || has(b.pad_burst_min) || has(b.pad_burst_max) ||
    has(b.pad_burst_prob);
  const p: PaddingPolicy = any
    ? { min: 0, max: 0, burstMin: 0, burstMax: 0, burstProb: 0 }
    : { ...DEFAULT_PADDING };
  if (has(b.pad_min)) p.min = b.pad_min!;
  if (has(b.pad_max)) p.max = b.pad_max!;
  if (has(b.pad_burst_min)) p.burstMin = b.pad_burst_min!;
  if (has(b.pad_burst_max)) p.burstMax = b.pad_burst_max!;
  if (has(b.pad_burst_prob)) p.burstProb = b.pad_burst_prob!;
  if (p.min < 0 || p.max < 0 || p.burstMin < 0 || p.burstMax < 0) {
    throw new RangeError("padding values must be >= 0");
  }
  if (p.max < p.min) throw new RangeError("pad_max must be >= pad_min");
  if (p.burstMax < p.burstMin) throw new RangeError("pad_burst_max must be >= pad_burst_min");
  if (!(p.burstProb >= 0 && p.burstProb <= 1)) throw new RangeError("pad_burst_prob must be between 0 and 1");
  if (p.burstProb > 0 && p.burstMax === 0) {
    throw new RangeError("pad_burst_max must be > 0 when pad_burst_prob > 0");
  }
  return p;
}

/** Chosen padding for one packet. */
export interface PaddingChoice {
  pad: number;
  clamped: boolean;
}

/**
 * Picks the pad length for a packet whose unpadded payload is `base` bytes and whose payload
 * may not exceed `maxPayload`. Returns `null` if even `base` does not fit. The answer is written
 * into `out` when given (a per-packet caller reuses one object).
 */
export function selectPadding(
  p: PaddingPolicy,
  base: number,
  maxPayload: number,
  out?: PaddingChoice,
): PaddingChoice | null {
  if (base > maxPayload) return null;
  const c = out ?? { pad: 0, clamped: false };
  c.pad = 0;
  c.clamped = false;
  if (!paddingEnabled(p)) return c;
  let min = p.min;
  let max = p.max;
  if (p.burstProb > 0 && shouldBurst(p.burstProb)) {
    min = p.burstMin;
    max = p.burstMax;
  }
  if (max === 0 && min === 0) return c;
  const pad = randomRange(min, max);
  if (base + pad > maxPayload) {
    c.pad = maxPayload - base;
    c.clamped = true;
  } else {
    c.pad = pad;
  }
  return c;
}

function shouldBurst(prob: number): boolean {
  if (prob >= 1) return true;
  return randomUint32() <= Math.floor(prob * 0xffff_ffff);
}
