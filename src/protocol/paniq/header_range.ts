/**
 * Type-header ranges H1–H4 (paniq.md §3.1): `"N"` or `"A-B"`, decimal uint32, inclusive,
 * defaults "1".."4", no two ranges may overlap.
 *
 * @module
 */
import { randomRange } from "./random.ts";

/** An inclusive uint32 range. */
export interface HeaderRange {
  start: number;
  end: number;
}

const UINT_RE = /^[0-9]+$/;

function parseU32(text: string, spec: string): number {
  if (!UINT_RE.test(text)) {
    throw new SyntaxError(`Cannot parse header "${spec}": "${text}" is not a decimal uint32`);
  }
  const v = Number(text);
  if (v > 0xffff_ffff) throw new RangeError(`Cannot parse header "${spec}": "${text}" exceeds uint32`);
  return v;
}

/**
 * Parses one header spec.
 *
 * @throws {SyntaxError} If the spec is not `N` or `A-B`
 * @throws {RangeError} If a value exceeds uint32 or `B < A`
 */
export function parseHeaderRange(spec: string): HeaderRange {
  const parts = spec.split("-");
  if (parts.length < 1 || parts.length > 2) {
    throw new SyntaxError(`Cannot parse header "${spec}": bad format`);
  }
  const start = parseU32(parts[0], spec);
  const end = parts.length > 1 ? parseU32(parts[1], spec) : start;
  if (end < start) throw new RangeError(`Cannot parse header "${spec}": wrong range specified`);
  return { start, end };
}

/** Formats a range the way Go's `GenSpec` does. */
export function formatHeaderRange(h: HeaderRange): string {
  return h.start === h.end ? `${h.start}` : `${h.start}-${h.end}`;
}

/** True if `v` lies in `h`. */
export function headerContains(h: HeaderRange, v: number): boolean {
  return h.start <= v && v <= h.end;
}

/** A uniform random value in `h`. */
export function generateHeader(h: HeaderRange): number {
  return randomRange(h.start, h.end);
}

/** True if the two ranges share any value. */
export function headersOverlap(a: HeaderRange, b: HeaderRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

const DEFAULT_SPECS = ["1", "2", "3", "4"];

/**
 * Parses the four specs (empty means the default `"1".."4"`) and rejects overlaps.
 *
 * @throws {RangeError} If two ranges overlap, or a spec is invalid
 */
export function parseHeaderSet(specs: readonly string[]): HeaderRange[] {
  if (specs.length !== 4) throw new RangeError("Cannot parse headers: expected 4 header specs");
  const parsed = specs.map((s, i) => {
    try {
      return parseHeaderRange(s === "" ? DEFAULT_SPECS[i] : s);
    } catch (e) {
      throw new RangeError(`h${i + 1}: ${(e as Error).message}`);
    }
  });
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      if (headersOverlap(parsed[i], parsed[j])) {
        throw new RangeError(`Cannot use headers h${i + 1} and h${j + 1}: headers must not overlap`);
      }
    }
  }
  return parsed;
}
