/**
 * QPACK encoder-stream instructions (RFC 9204 §4.3) and decoder-stream instructions (§4.4):
 * writers, and incremental parsers that take stream bytes in arbitrary chunks.
 *
 * @module
 */
import type { ByteWriter } from "../byte_writer.ts";
import { type HuffmanPolicy, INCOMPLETE, QpackReader, writeInt, writeString } from "./wire.ts";

/** An instruction on the QPACK encoder stream. */
export type EncoderInstruction =
  | { kind: "set-capacity"; capacity: number }
  | { kind: "insert-name-ref"; isStatic: boolean; index: number; value: string }
  | { kind: "insert-literal"; name: string; value: string }
  | { kind: "duplicate"; index: number };

/** An instruction on the QPACK decoder stream. */
export type DecoderInstruction =
  | { kind: "section-ack"; streamId: number }
  | { kind: "stream-cancel"; streamId: number }
  | { kind: "insert-count-increment"; increment: number };

/** Appends Set Dynamic Table Capacity (`001` + 5-bit capacity). */
export function writeSetCapacity(w: ByteWriter, capacity: number): void {
  writeInt(w, 0x20, 5, capacity);
}

/** Appends Insert With Name Reference (`1T` + 6-bit index, then the value). */
export function writeInsertNameRef(
  w: ByteWriter,
  isStatic: boolean,
  index: number,
  value: string,
  huffman: HuffmanPolicy,
): void {
  writeInt(w, isStatic ? 0xc0 : 0x80, 6, index);
  writeString(w, 0, 7, value, huffman);
}

/** Appends Insert With Literal Name (`01H` + 5-bit name length, name, then the value). */
export function writeInsertLiteral(w: ByteWriter, name: string, value: string, huffman: HuffmanPolicy): void {
  writeString(w, 0x40, 5, name, huffman);
  writeString(w, 0, 7, value, huffman);
}

/** Appends Duplicate (`000` + 5-bit relative index). */
export function writeDuplicate(w: ByteWriter, relativeIndex: number): void {
  writeInt(w, 0x00, 5, relativeIndex);
}

/** Appends Section Acknowledgment (`1` + 7-bit stream ID). */
export function writeSectionAck(w: ByteWriter, streamId: number): void {
  writeInt(w, 0x80, 7, streamId);
}

/** Appends Stream Cancellation (`01` + 6-bit stream ID). */
export function writeStreamCancel(w: ByteWriter, streamId: number): void {
  writeInt(w, 0x40, 6, streamId);
}

/** Appends Insert Count Increment (`00` + 6-bit increment). */
export function writeInsertCountIncrement(w: ByteWriter, increment: number): void {
  writeInt(w, 0x00, 6, increment);
}

/** Accumulates stream bytes and hands out whole instructions. */
class ChunkBuffer {
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  push(chunk: Uint8Array): void {
    if (this.#start === this.#end) {
      // Nothing pending: parse the chunk in place.
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    const pending = this.#end - this.#start;
    const next = new Uint8Array(pending + chunk.length);
    next.set(this.#buf.subarray(this.#start, this.#end));
    next.set(chunk, pending);
    this.#buf = next;
    this.#start = 0;
    this.#end = next.length;
  }

  /** Runs `parse` repeatedly on a reader; keeps the bytes of a trailing incomplete instruction. */
  drain<T>(parse: (r: QpackReader) => T): T[] {
    const out: T[] = [];
    const r = new QpackReader(this.#buf, this.#start, this.#end);
    while (!r.done) {
      const at = r.pos;
      try {
        out.push(parse(r));
      } catch (e) {
        if (e !== INCOMPLETE) throw e;
        r.pos = at;
        break;
      }
      this.#start = r.pos;
    }
    this.#start = r.pos;
    if (this.#start === this.#end) {
      this.#buf = new Uint8Array(0);
      this.#start = this.#end = 0;
    } else {
      // Keep a private copy: the chunk may belong to a caller that reuses its buffer.
      this.#buf = this.#buf.slice(this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    return out;
  }

  /** Bytes of an incomplete instruction still waiting for more input. */
  get pending(): number {
    return this.#end - this.#start;
  }
}

/** Parses one encoder-stream instruction; string lengths above `maxString` are rejected early. */
export function readEncoderInstruction(r: QpackReader, maxString: number): EncoderInstruction {
  const b = r.peek();
  if (b & 0x80) {
    const isStatic = (b & 0x40) !== 0;
    const index = r.int(6);
    const value = r.string(7, maxString);
    return { kind: "insert-name-ref", isStatic, index, value };
  }
  if (b & 0x40) {
    const name = r.string(5, maxString);
    const value = r.string(7, maxString);
    return { kind: "insert-literal", name, value };
  }
  if (b & 0x20) return { kind: "set-capacity", capacity: r.int(5) };
  return { kind: "duplicate", index: r.int(5) };
}

/** Parses one decoder-stream instruction. */
export function readDecoderInstruction(r: QpackReader): DecoderInstruction {
  const b = r.peek();
  if (b & 0x80) return { kind: "section-ack", streamId: r.int(7) };
  if (b & 0x40) return { kind: "stream-cancel", streamId: r.int(6) };
  return { kind: "insert-count-increment", increment: r.int(6) };
}

/** Incremental parser for the encoder stream. */
export class EncoderStreamParser {
  #buf = new ChunkBuffer();
  /** @param maxString longest name or value accepted (the decoder's table capacity) */
  constructor(readonly maxString: number) {}

  /** Adds stream bytes and returns the instructions completed by them. */
  push(chunk: Uint8Array): EncoderInstruction[] {
    this.#buf.push(chunk);
    return this.#buf.drain((r) => readEncoderInstruction(r, this.maxString));
  }

  /** Bytes of an unfinished instruction. */
  get pending(): number {
    return this.#buf.pending;
  }
}

/** Incremental parser for the decoder stream. */
export class DecoderStreamParser {
  #buf = new ChunkBuffer();

  /** Adds stream bytes and returns the instructions completed by them. */
  push(chunk: Uint8Array): DecoderInstruction[] {
    this.#buf.push(chunk);
    return this.#buf.drain(readDecoderInstruction);
  }

  /** Bytes of an unfinished instruction. */
  get pending(): number {
    return this.#buf.pending;
  }
}
