/**
 * The HPACK/QPACK Huffman code (RFC 7541 Appendix B, reused by RFC 9204 §4.1.2). The code table
 * comes from `hpack.js`; decoding uses a 4-bit-at-a-time state machine built from it at load time,
 * which also enforces the padding rules (at most 7 bits, all ones, no EOS symbol).
 *
 * @example Usage
 * ```ts
 * import { huffmanEncode, huffmanDecode, huffmanEncodedLength } from "./huffman.ts";
 * const out = new Uint8Array(huffmanEncodedLength("www.example.com"));
 * huffmanEncode("www.example.com", out, 0);
 * console.log(huffmanDecode(out, 0, out.length)); // "www.example.com"
 * ```
 * @module
 */
import hpack from "hpack.js";

/** `[bit length, code]` for symbols 0..256 (256 is EOS), from RFC 7541 Appendix B. */
const CODE_TABLE: [number, number][] =
  (hpack as unknown as { huffman: { encode: [number, number][] } }).huffman
    .encode;
if (CODE_TABLE.length !== 257) throw new Error("hpack.js Huffman table has an unexpected shape");

const CODE_LEN = new Uint8Array(257);
const CODE = new Uint32Array(257);
for (let i = 0; i < 257; i++) {
  CODE_LEN[i] = CODE_TABLE[i][0];
  CODE[i] = CODE_TABLE[i][1];
}

/** Thrown (and mapped to a QPACK error by callers) when a Huffman string is invalid. */
export class HuffmanError extends Error {
  constructor(detail: string) {
    super(`Invalid Huffman string: ${detail}`);
    this.name = "HuffmanError";
  }
}

// ---- decoder state machine -------------------------------------------------------------------
// Internal nodes of the code tree get ids 0..255 (root = 0). For each node and each 4-bit nibble,
// FSM holds: next node (bits 0-7), emitted symbol + 1 (bits 8-16, 0 = none), fail flag (bit 17).
// ACCEPT[node] says whether ending the string in that node is valid padding.
const FAIL = 1 << 17;
const FSM = new Int32Array(256 * 16);
const ACCEPT = new Uint8Array(256);
{
  // Build the tree: children[node*2 + bit] = child id; leaves encoded as -(sym + 1).
  const children = new Int32Array(512).fill(0);
  let nodes = 1;
  for (let sym = 0; sym < 257; sym++) {
    const len = CODE_LEN[sym];
    const code = CODE[sym];
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) & 1;
      const slot = node * 2 + bit;
      if (b === 0) {
        children[slot] = -(sym + 1);
      } else {
        if (children[slot] === 0) children[slot] = nodes++;
        node = children[slot];
      }
    }
  }
  if (nodes !== 256) throw new Error(`Huffman tree has ${nodes} internal nodes, expected 256`);
  // Accepting states: the root, and nodes reached from the root by 1..7 one-bits.
  ACCEPT[0] = 1;
  let n = 0;
  for (let depth = 1; depth <= 7; depth++) {
    n = children[n * 2 + 1];
    ACCEPT[n] = 1;
  }
  for (let node = 0; node < 256; node++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let cur = node;
      let emitted = 0;
      let fail = 0;
      for (let b = 3; b >= 0; b--) {
        const next = children[cur * 2 + ((nibble >> b) & 1)];
        if (next < 0) {
          const sym = -next - 1;
          if (sym === 256) {
            fail = FAIL;
            break;
          }
          emitted = sym + 1;
          cur = 0;
        } else {
          cur = next;
        }
      }
      FSM[node * 16 + nibble] = fail | (emitted << 8) | (fail ? 0 : cur);
    }
  }
}

let scratch = new Uint8Array(256);

/**
 * Decodes the Huffman string in `buf[start..end)` to a byte string.
 *
 * @throws {HuffmanError} If the string contains EOS, or its padding is longer than 7 bits or not all ones.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string {
  // Every symbol takes at least 5 bits, so the output is at most len * 8 / 5 bytes.
  const max = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < max) scratch = new Uint8Array(Math.max(max, scratch.length * 2));
  const out = scratch;
  let o = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    let e = FSM[(state << 4) | (byte >> 4)];
    if (e & FAIL) throw new HuffmanError("EOS symbol in string");
    if (e & 0x1ff00) out[o++] = ((e >> 8) & 0x1ff) - 1;
    state = e & 0xff;
    e = FSM[(state << 4) | (byte & 0xf)];
    if (e & FAIL) throw new HuffmanError("EOS symbol in string");
    if (e & 0x1ff00) out[o++] = ((e >> 8) & 0x1ff) - 1;
    state = e & 0xff;
  }
  if (!ACCEPT[state]) throw new HuffmanError("padding is not a prefix of EOS or longer than 7 bits");
  let s = "";
  if (o <= 32) {
    for (let i = 0; i < o; i++) s += String.fromCharCode(out[i]);
    return s;
  }
  for (let i = 0; i < o; i += 8192) {
    s += String.fromCharCode.apply(null, out.subarray(i, Math.min(o, i + 8192)) as unknown as number[]);
  }
  return s;
}

/** Returns the byte length of the Huffman encoding of the byte string `s`. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += CODE_LEN[s.charCodeAt(i) & 0xff];
  return (bits + 7) >> 3;
}

/**
 * Huffman-encodes the byte string `s` into `buf` at `offset` (which must have
 * {@linkcode huffmanEncodedLength} bytes of room) and returns the offset after it.
 */
export function huffmanEncode(s: string, buf: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, fewer than 8 between symbols
  let nbits = 0;
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    let len = CODE_LEN[sym];
    let code = CODE[sym];
    if (len > 24) {
      // Emit the high part first so the accumulator stays below 2^31.
      const hiLen = len - 16;
      acc = (acc << hiLen) | (code >>> 16);
      nbits += hiLen;
      while (nbits >= 8) {
        nbits -= 8;
        buf[o++] = (acc >>> nbits) & 0xff;
      }
      acc &= (1 << nbits) - 1;
      len = 16;
      code &= 0xffff;
    }
    acc = (acc << len) | code;
    nbits += len;
    while (nbits >= 8) {
      nbits -= 8;
      buf[o++] = (acc >>> nbits) & 0xff;
    }
    acc &= (1 << nbits) - 1;
  }
  if (nbits > 0) buf[o++] = ((acc << (8 - nbits)) | (0xff >> nbits)) & 0xff;
  return o;
}
