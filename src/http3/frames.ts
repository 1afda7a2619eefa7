/**
 * HTTP/3 frames (RFC 9114 §7): type codes, writers, payload parsers and an incremental
 * {@linkcode FrameReader} that turns stream bytes into frame events, streaming DATA payloads
 * without copying them.
 *
 * @example Usage
 * ```ts
 * import { FRAME, FrameReader, encodeFrame } from "./frames.ts";
 * const reader = new FrameReader();
 * reader.push(encodeFrame(FRAME.DATA, new TextEncoder().encode("hi")));
 * for (let ev = reader.next(); ev; ev = reader.next()) console.log(ev.kind);
 * // "header", "data"
 * ```
 * @module
 */
import { connectionError, H3_ERROR } from "./errors.ts";
import { decodeVarint, encodeVarint, varintLength } from "./varint.ts";

/** Frame type codes (RFC 9114 §7.2). */
export const FRAME = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
} as const;

/** Frame types of HTTP/2 that HTTP/3 reserves; receiving one is H3_FRAME_UNEXPECTED (§7.2.8). */
export const RESERVED_H2_FRAMES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** Whether `type` is a reserved "grease" type `0x1f * N + 0x21` (§7.2.8, §6.2.3, §7.2.4.1). */
export function isGreaseType(type: number): boolean {
  return type >= 0x21 && (type - 0x21) % 0x1f === 0;
}

/** Returns a grease type for `n` (0x21, 0x40, 0x5f, …). */
export function greaseType(n: number): number {
  return 0x1f * n + 0x21;
}

/** Human-readable name of a frame type, for error messages. */
export function frameName(type: number): string {
  for (const [k, v] of Object.entries(FRAME)) if (v === type) return k;
  if (RESERVED_H2_FRAMES.has(type)) return `reserved HTTP/2 frame 0x${type.toString(16)}`;
  return `frame 0x${type.toString(16)}`;
}

/** Returns the bytes of a frame header: type and payload length. */
export function encodeFrameHeader(type: number, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length));
  encodeVarint(out, encodeVarint(out, 0, type), length);
  return out;
}

/** Writes a frame header into `buf` at `offset`; returns the offset after it. */
export function writeFrameHeader(buf: Uint8Array, offset: number, type: number, length: number): number {
  return encodeVarint(buf, encodeVarint(buf, offset, type), length);
}

/** Returns a whole frame: header and `payload`. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const hl = varintLength(type) + varintLength(payload.length);
  const out = new Uint8Array(hl + payload.length);
  writeFrameHeader(out, 0, type, payload.length);
  out.set(payload, hl);
  return out;
}

/** Returns a frame whose payload is a single varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH). */
export function encodeVarintFrame(type: number, value: number): Uint8Array {
  const payload = new Uint8Array(varintLength(value));
  encodeVarint(payload, 0, value);
  return encodeFrame(type, payload);
}

/** Returns a SETTINGS frame with the given identifier/value pairs, in order. */
export function encodeSettingsFrame(settings: Iterable<readonly [number, number]>): Uint8Array {
  const pairs = [...settings];
  let len = 0;
  for (const [id, v] of pairs) len += varintLength(id) + varintLength(v);
  const payload = new Uint8Array(len);
  let o = 0;
  for (const [id, v] of pairs) o = encodeVarint(payload, encodeVarint(payload, o, id), v);
  return encodeFrame(FRAME.SETTINGS, payload);
}

/** Returns a PUSH_PROMISE frame: push ID then the encoded field section. */
export function encodePushPromiseFrame(pushId: number, fieldSection: Uint8Array): Uint8Array {
  const payload = new Uint8Array(varintLength(pushId) + fieldSection.length);
  payload.set(fieldSection, encodeVarint(payload, 0, pushId));
  return encodeFrame(FRAME.PUSH_PROMISE, payload);
}

/**
 * Parses a SETTINGS payload into identifier/value pairs, in order.
 *
 * @throws {H3Error} H3_FRAME_ERROR if the payload ends inside a pair.
 */
export function parseSettingsPayload(payload: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let o = 0;
  while (o < payload.length) {
    const id = decodeVarint(payload, o);
    const v = id && decodeVarint(payload, id.next);
    if (!id || !v) throw connectionError(H3_ERROR.FRAME_ERROR, "SETTINGS payload ends inside a setting");
    out.push([id.value, v.value]);
    o = v.next;
  }
  return out;
}

/**
 * Parses a payload that must be exactly one varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH).
 *
 * @throws {H3Error} H3_FRAME_ERROR if it is shorter or longer.
 */
export function parseVarintPayload(type: number, payload: Uint8Array): number {
  const v = decodeVarint(payload, 0);
  if (!v || v.next !== payload.length) {
    throw connectionError(H3_ERROR.FRAME_ERROR, `${frameName(type)} payload is not exactly one varint`);
  }
  return v.value;
}

/**
 * Parses a PUSH_PROMISE payload.
 *
 * @throws {H3Error} H3_FRAME_ERROR if the push ID is truncated.
 */
export function parsePushPromisePayload(payload: Uint8Array): { pushId: number; fieldSection: Uint8Array } {
  const v = decodeVarint(payload, 0);
  if (!v) throw connectionError(H3_ERROR.FRAME_ERROR, "PUSH_PROMISE payload ends inside the push ID");
  return { pushId: v.value, fieldSection: payload.subarray(v.next) };
}

/** What {@linkcode FrameReader.next} returns. */
export type FrameEvent =
  /** A frame header; every frame produces one, unknown types included. */
  | { kind: "header"; type: number; length: number }
  /** A piece of a DATA payload (a view of the pushed bytes). */
  | { kind: "data"; data: Uint8Array }
  /** The whole payload of a HEADERS, SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH or PUSH_PROMISE frame. */
  | { kind: "frame"; type: number; payload: Uint8Array };

/** FrameReader limits. */
export interface FrameReaderOptions {
  /** Largest payload buffered for a non-DATA known frame; larger is H3_EXCESSIVE_LOAD. @default 1 MiB */
  maxFramePayload?: number;
}

const BUFFERED = new Set<number>([
  FRAME.HEADERS,
  FRAME.CANCEL_PUSH,
  FRAME.SETTINGS,
  FRAME.PUSH_PROMISE,
  FRAME.GOAWAY,
  FRAME.MAX_PUSH_ID,
]);

const enum State {
  Header,
  Data,
  Buffer,
  Skip,
}

/**
 * Splits a stream's bytes into frames. Push chunks with {@linkcode push}, then call
 * {@linkcode next} until it returns `undefined`. Reserved HTTP/2 frame types raise
 * H3_FRAME_UNEXPECTED; unknown types produce a `header` event and their payload is skipped.
 */
export class FrameReader {
  readonly #maxPayload: number;
  #chunks: Uint8Array[] = [];
  #pos = 0; // offset in #chunks[0]
  #state = State.Header;
  #remaining = 0;
  #type = 0;
  #parts: Uint8Array[] = [];
  #partsLen = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.#maxPayload = options.maxFramePayload ?? 1 << 20;
  }

  /** Adds stream bytes. The reader keeps views of `chunk`, so it must not be modified later. */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  /** Whether the reader is between frames (a clean place for the stream to end). */
  get atFrameBoundary(): boolean {
    return this.#state === State.Header && this.#buffered() === 0;
  }

  #buffered(): number {
    let n = -this.#pos;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  /**
   * Returns the next event, or `undefined` when more bytes are needed.
   *
   * @throws {H3Error} H3_FRAME_UNEXPECTED for reserved HTTP/2 types, H3_EXCESSIVE_LOAD for an
   * oversized buffered frame.
   */
  next(): FrameEvent | undefined {
    for (;;) {
      if (this.#state === State.Buffer && this.#remaining === 0) return this.#finishBuffered();
      if (this.#chunks.length === 0) return undefined;
      const chunk = this.#chunks[0];
      if (this.#pos >= chunk.length) {
        this.#chunks.shift();
        this.#pos = 0;
        continue;
      }
      switch (this.#state) {
        case State.Header: {
          const ev = this.#readHeader();
          if (!ev) return undefined;
          return ev;
        }
        case State.Data: {
          const n = Math.min(this.#remaining, chunk.length - this.#pos);
          const data = chunk.subarray(this.#pos, this.#pos + n);
          this.#advance(n);
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.Header;
          return { kind: "data", data };
        }
        case State.Buffer: {
          const n = Math.min(this.#remaining, chunk.length - this.#pos);
          this.#parts.push(chunk.subarray(this.#pos, this.#pos + n));
          this.#partsLen += n;
          this.#advance(n);
          this.#remaining -= n;
          if (this.#remaining === 0) return this.#finishBuffered();
          continue;
        }
        case State.Skip: {
          const n = Math.min(this.#remaining, chunk.length - this.#pos);
          this.#advance(n);
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.Header;
          continue;
        }
      }
    }
  }

  #advance(n: number): void {
    this.#pos += n;
    if (this.#pos >= this.#chunks[0].length) {
      this.#chunks.shift();
      this.#pos = 0;
    }
  }

  #readHeader(): FrameEvent | undefined {
    let chunk = this.#chunks[0];
    let start = this.#pos;
    // A header is at most 16 bytes; join chunks only when it straddles a boundary.
    if (chunk.length - start < 16 && this.#chunks.length > 1) {
      const joined = new Uint8Array(16);
      let n = 0;
      for (let i = 0, off = start; i < this.#chunks.length && n < 16; i++, off = 0) {
        const c = this.#chunks[i];
        const take = Math.min(16 - n, c.length - off);
        joined.set(c.subarray(off, off + take), n);
        n += take;
      }
      chunk = joined.subarray(0, n);
      start = 0;
    }
    const t = decodeVarint(chunk, start);
    const l = t && decodeVarint(chunk, t.next);
    if (!t || !l) return undefined;
    this.#consume(l.next - start);
    const type = t.value;
    const length = l.value;
    if (RESERVED_H2_FRAMES.has(type)) {
      throw connectionError(H3_ERROR.FRAME_UNEXPECTED, `${frameName(type)} received`);
    }
    this.#type = type;
    this.#remaining = length;
    if (type === FRAME.DATA) {
      this.#state = length > 0 ? State.Data : State.Header;
    } else if (BUFFERED.has(type)) {
      if (length > this.#maxPayload) {
        throw connectionError(
          H3_ERROR.EXCESSIVE_LOAD,
          `${frameName(type)} of ${length} bytes exceeds ${this.#maxPayload}`,
        );
      }
      this.#parts = [];
      this.#partsLen = 0;
      this.#state = State.Buffer; // an empty payload is delivered by the next call
    } else {
      this.#state = length > 0 ? State.Skip : State.Header;
    }
    return { kind: "header", type, length };
  }

  #consume(n: number): void {
    while (n > 0) {
      const c = this.#chunks[0];
      const take = Math.min(n, c.length - this.#pos);
      this.#pos += take;
      n -= take;
      if (this.#pos >= c.length) {
        this.#chunks.shift();
        this.#pos = 0;
      }
    }
  }

  #finishBuffered(): FrameEvent {
    this.#state = State.Header;
    let payload: Uint8Array;
    if (this.#parts.length === 1) {
      payload = this.#parts[0];
    } else {
      payload = new Uint8Array(this.#partsLen);
      let o = 0;
      for (const p of this.#parts) {
        payload.set(p, o);
        o += p.length;
      }
    }
    this.#parts = [];
    return { kind: "frame", type: this.#type, payload };
  }
}
