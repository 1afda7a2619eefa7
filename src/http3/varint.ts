/**
 * QUIC variable-length integers (RFC 9000 §16): a 2-bit length prefix selects 1, 2, 4 or 8 bytes,
 * holding values up to 2^62 - 1. HTTP/3 uses them for frame types and lengths, stream types,
 * setting identifiers and values, push IDs and stream IDs.
 *
 * Values are JavaScript numbers. Values above `Number.MAX_SAFE_INTEGER` (2^53 - 1) only occur as
 * reserved identifiers or huge setting values; they decode to the nearest double, which is enough
 * to classify and ignore them.
 *
 * @example Usage
 * ```ts
 * import { encodeVarint, decodeVarint } from "./varint.ts";
 * const buf = new Uint8Array(8);
 * const end = encodeVarint(buf, 0, 15293);
 * const { value, next } = decodeVarint(buf, 0)!;
 * console.log(value === 15293, next === end);
 * ```
 * @module
 */

/** The largest value a QUIC varint can hold, 2^62 - 1. */
export const VARINT_MAX = 4611686018427387903;

const TWO_POW_32 = 4294967296;

/** Returns how many bytes `value` needs as a varint (1, 2, 4 or 8). */
export function varintLength(value: number): number {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/**
 * Writes `value` at `offset` in `buf` and returns the offset after it.
 *
 * @throws {RangeError} If `value` is negative, not an integer or above {@linkcode VARINT_MAX}.
 */
export function encodeVarint(buf: Uint8Array, offset: number, value: number): number {
  if (value < 0x40 && value >= 0) {
    buf[offset] = value;
    return offset + 1;
  }
  if (!(value >= 0 && value <= VARINT_MAX) || !Number.isInteger(value)) {
    throw new RangeError(`Cannot encode varint ${value}: must be an integer 0..2^62-1`);
  }
  if (value < 0x4000) {
    buf[offset] = 0x40 | (value >>> 8);
    buf[offset + 1] = value & 0xff;
    return offset + 2;
  }
  if (value < 0x40000000) {
    buf[offset] = 0x80 | (value >>> 24);
    buf[offset + 1] = (value >>> 16) & 0xff;
    buf[offset + 2] = (value >>> 8) & 0xff;
    buf[offset + 3] = value & 0xff;
    return offset + 4;
  }
  const hi = Math.floor(value / TWO_POW_32);
  const lo = value - hi * TWO_POW_32;
  buf[offset] = 0xc0 | (hi >>> 24);
  buf[offset + 1] = (hi >>> 16) & 0xff;
  buf[offset + 2] = (hi >>> 8) & 0xff;
  buf[offset + 3] = hi & 0xff;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = (lo >>> 16) & 0xff;
  buf[offset + 6] = (lo >>> 8) & 0xff;
  buf[offset + 7] = lo & 0xff;
  return offset + 8;
}

/** Returns `value` as a new varint byte array. */
export function varintBytes(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  encodeVarint(out, 0, value);
  return out;
}

/** A decoded varint and the offset just after it. */
export interface DecodedVarint {
  value: number;
  next: number;
}

/**
 * Reads a varint at `offset` of `buf` (up to `end`, default `buf.length`). Returns `undefined`
 * if the bytes end before the varint does.
 */
export function decodeVarint(buf: Uint8Array, offset: number, end = buf.length): DecodedVarint | undefined {
  if (offset >= end) return undefined;
  const first = buf[offset];
  const len = 1 << (first >>> 6);
  if (offset + len > end) return undefined;
  let value: number;
  switch (len) {
    case 1:
      value = first;
      break;
    case 2:
      value = ((first & 0x3f) << 8) | buf[offset + 1];
      break;
    case 4:
      value = ((first & 0x3f) * 0x1000000) +
        ((buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
      break;
    default: {
      const hi = ((first & 0x3f) * 0x1000000) +
        ((buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
      const lo = (buf[offset + 4] * 0x1000000) +
        ((buf[offset + 5] << 16) | (buf[offset + 6] << 8) | buf[offset + 7]);
      value = hi * TWO_POW_32 + lo;
    }
  }
  return { value, next: offset + len };
}
