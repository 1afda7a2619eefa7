/**
 * QPACK primitives (RFC 9204 §4.1): prefixed integers (RFC 7541 §5.1) and string literals with an
 * optional Huffman flag, for both reading and writing.
 *
 * @module
 */
import type { ByteWriter } from "../byte_writer.ts";
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, HuffmanError } from "./huffman.ts";
import { latin1Decode, latin1EncodeInto } from "./latin1.ts";

/** Thrown by {@linkcode QpackReader} when the input ends inside a representation. */
export const INCOMPLETE: unique symbol = Symbol("incomplete");

/** Thrown by {@linkcode QpackReader} for bytes that can never be valid (overflow, bad Huffman). */
export class QpackWireError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "QpackWireError";
  }
}

/** Reads prefixed integers and string literals from `buf[pos..end)`. */
export class QpackReader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Whether all bytes have been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next byte, without consuming it. Throws {@linkcode INCOMPLETE} at the end. */
  peek(): number {
    if (this.pos >= this.end) throw INCOMPLETE;
    return this.buf[this.pos];
  }

  /**
   * Reads an integer whose first byte uses its low `prefixBits` bits (the high bits are flags the
   * caller has already looked at with {@linkcode peek}).
   */
  int(prefixBits: number): number {
    if (this.pos >= this.end) throw INCOMPLETE;
    const max = (1 << prefixBits) - 1;
    let value = this.buf[this.pos++] & max;
    if (value < max) return value;
    let mult = 1;
    for (;;) {
      if (this.pos >= this.end) throw INCOMPLETE;
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * mult;
      if (!(b & 0x80)) break;
      mult *= 128;
      if (mult > 2 ** 56) throw new QpackWireError("integer longer than 62 bits");
    }
    if (value > Number.MAX_SAFE_INTEGER) throw new QpackWireError("integer too large");
    return value;
  }

  /**
   * Reads a string literal whose length uses `prefixBits` bits of the first byte and whose Huffman
   * flag is the bit just above them. Lengths above `maxLength` are rejected before waiting for the
   * bytes.
   */
  string(prefixBits: number, maxLength = Infinity): string {
    if (this.pos >= this.end) throw INCOMPLETE;
    const huffman = (this.buf[this.pos] & (1 << prefixBits)) !== 0;
    const len = this.int(prefixBits);
    if (len > maxLength) throw new QpackWireError(`string length ${len} exceeds the limit ${maxLength}`);
    if (this.pos + len > this.end) throw INCOMPLETE;
    const start = this.pos;
    this.pos += len;
    if (!huffman) return latin1Decode(this.buf, start, start + len);
    try {
      return huffmanDecode(this.buf, start, start + len);
    } catch (e) {
      if (e instanceof HuffmanError) throw new QpackWireError(e.message);
      throw e;
    }
  }
}

/** Appends an integer with `prefixBits` bits in the first byte, OR-ed with the `flags` byte. */
export function writeInt(w: ByteWriter, flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    w.byte(flags | value);
    return;
  }
  w.ensure(10);
  const buf = w.buf;
  let o = w.length;
  buf[o++] = flags | max;
  value -= max;
  while (value >= 128) {
    buf[o++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[o++] = value;
  w.length = o;
}

/** When string literals are Huffman-coded. */
export type HuffmanPolicy = "auto" | "always" | "never";

/**
 * Appends a string literal: length with `prefixBits` bits (flags in the higher bits of the first
 * byte), the Huffman flag just above the length, then the bytes.
 */
export function writeString(
  w: ByteWriter,
  flags: number,
  prefixBits: number,
  s: string,
  huffman: HuffmanPolicy,
): void {
  const len = s.length;
  let hlen = -1;
  if (huffman !== "never" && len > 0) {
    hlen = huffmanEncodedLength(s);
    if (huffman === "auto" && hlen >= len) hlen = -1;
  }
  if (hlen >= 0) {
    writeInt(w, flags | (1 << prefixBits), prefixBits, hlen);
    w.ensure(hlen);
    w.length = huffmanEncode(s, w.buf, w.length);
  } else {
    writeInt(w, flags, prefixBits, len);
    w.ensure(len);
    w.length = latin1EncodeInto(s, w.buf, w.length);
  }
}
