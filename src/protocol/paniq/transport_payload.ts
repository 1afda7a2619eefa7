/**
 * The Transport (type 4) payload (paniq.md §3.5):
 * `[u64 BE counter iff transport_replay] [u16 BE inner_len ≥ 1] [inner] [random padding]`.
 *
 * @module
 */
import { COUNTER_SIZE, INNER_LEN_SIZE } from "./constants.ts";
import { fillRandomAt } from "./random.ts";

/** Bytes of payload before `inner`. */
export function transportHeaderSize(replay: boolean): number {
  return (replay ? COUNTER_SIZE : 0) + INNER_LEN_SIZE;
}

/**
 * Writes a transport payload into `out` at `offset` (the caller sized `out` to hold
 * header + inner + pad). Returns the end offset.
 */
export function writeTransportPayload(
  out: Uint8Array,
  offset: number,
  inner: Uint8Array,
  pad: number,
  counter: bigint | null,
): number {
  let o = offset;
  if (counter !== null) {
    new DataView(out.buffer, out.byteOffset + o, 8).setBigUint64(0, counter);
    o += COUNTER_SIZE;
  }
  out[o] = inner.length >>> 8;
  out[o + 1] = inner.length & 0xff;
  o += INNER_LEN_SIZE;
  out.set(inner, o);
  o += inner.length;
  if (pad > 0) fillRandomAt(out, o, pad);
  return o + pad;
}

/** Builds a standalone payload (tests and tools). */
export function encodeTransportPayload(inner: Uint8Array, pad: number, counter: bigint | null): Uint8Array {
  if (inner.length === 0 || inner.length > 0xffff) {
    throw new RangeError("invalid transport payload: inner length");
  }
  const out = new Uint8Array(transportHeaderSize(counter !== null) + inner.length + pad);
  writeTransportPayload(out, 0, inner, pad, counter);
  return out;
}

/** A decoded payload; `inner` is a view into the input. */
export interface TransportPayload {
  counter: bigint | null;
  inner: Uint8Array;
  pad: number;
}

/** Decodes a payload; `null` if it is too short or `inner_len` is 0 or exceeds the rest. */
export function decodeTransportPayload(payload: Uint8Array, replay: boolean): TransportPayload | null {
  const o = locateInner(payload, 0, replay);
  if (o < 0) return null;
  const len = (payload[o - 2] << 8) | payload[o - 1];
  return {
    counter: replay ? readCounter(payload, 0) : null,
    inner: payload.subarray(o, o + len),
    pad: payload.length - o - len,
  };
}

/**
 * Checks the payload that starts at `start` and runs to the end of `buf`; returns where its inner
 * packet starts (`inner_len` is the u16 BE just before), or -1 under the same rules as
 * {@linkcode decodeTransportPayload}. Allocates nothing.
 */
export function locateInner(buf: Uint8Array, start: number, replay: boolean): number {
  let o = start;
  if (replay) {
    if (buf.length - o < COUNTER_SIZE + INNER_LEN_SIZE) return -1;
    o += COUNTER_SIZE;
  }
  if (buf.length - o < INNER_LEN_SIZE) return -1;
  const len = (buf[o] << 8) | buf[o + 1];
  o += INNER_LEN_SIZE;
  if (len === 0 || len > buf.length - o) return -1;
  return o;
}

/** The u64 BE counter at `offset` (the payload start of a transport_replay session). */
export function readCounter(buf: Uint8Array, offset: number): bigint {
  return new DataView(buf.buffer, buf.byteOffset + offset, 8).getBigUint64(0);
}
