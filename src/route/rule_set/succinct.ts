/**
 * The succinct trie of sing's `common/domain` (a LOUDS-encoded set of byte strings, after
 * openacid/succinct): `leaves` marks nodes that end a key, `labelBitmap` lists each node's
 * children as 0 bits followed by a 1, `labels` holds the child bytes in breadth-first order.
 * Keys are byte strings (one char per byte, 0..255).
 *
 * @module
 */
import type { ByteReader, ByteWriter } from "./varbin.ts";

/** The serialised parts of a succinct set. */
export interface SuccinctSet {
  leaves: bigint[];
  labelBitmap: bigint[];
  labels: Uint8Array;
}

function setBit(words: bigint[], i: number): void {
  while (i >> 6 >= words.length) words.push(0n);
  words[i >> 6] |= 1n << BigInt(i & 63);
}

function getBit(words: bigint[], i: number): boolean {
  const w = words[i >> 6];
  return w !== undefined && ((w >> BigInt(i & 63)) & 1n) === 1n;
}

/** Builds the set from keys sorted byte-wise with no duplicates (sing `newSuccinctSet`). */
export function buildSuccinctSet(keys: readonly string[]): SuccinctSet {
  const leaves: bigint[] = [];
  const labelBitmap: bigint[] = [];
  const labels: number[] = [];
  let lIdx = 0;
  const queue: { s: number; e: number; col: number }[] = [{ s: 0, e: keys.length, col: 0 }];
  for (let i = 0; i < queue.length; i++) {
    const elt = queue[i];
    let s = elt.s;
    if (s < elt.e && elt.col === keys[s].length) {
      s++;
      setBit(leaves, i);
    }
    for (let j = s; j < elt.e;) {
      const frm = j;
      const c = keys[frm].charCodeAt(elt.col);
      while (j < elt.e && keys[j].charCodeAt(elt.col) === c) j++;
      queue.push({ s: frm, e: j, col: elt.col + 1 });
      labels.push(c);
      // a 0 bit: nothing to set, only grow
      while (lIdx >> 6 >= labelBitmap.length) labelBitmap.push(0n);
      lIdx++;
    }
    setBit(labelBitmap, lIdx);
    lIdx++;
  }
  return { leaves, labelBitmap, labels: new Uint8Array(labels) };
}

/**
 * Lists every key, decoding the LOUDS bitmap sequentially: the k-th 0 bit (0-based) is the edge
 * to node k + 1, and node n's edges end at the n-th 1 bit.
 *
 * @throws {RangeError} If the bitmap and labels disagree
 */
export function succinctKeys(set: SuccinctSet): string[] {
  const parent: number[] = [-1];
  const label: number[] = [0];
  let node = 0;
  let zeros = 0;
  const totalBits = set.labelBitmap.length * 64;
  for (let bit = 0; bit < totalBits && node < parent.length; bit++) {
    if (getBit(set.labelBitmap, bit)) {
      node++;
      continue;
    }
    if (zeros >= set.labels.length) throw new RangeError("Succinct set has more edges than labels");
    parent.push(node);
    label.push(set.labels[zeros]);
    zeros++;
  }
  const keys: string[] = [];
  const memo: string[] = [""];
  for (let n = 1; n < parent.length; n++) memo[n] = memo[parent[n]] + String.fromCharCode(label[n]);
  for (let n = 0; n < parent.length; n++) if (getBit(set.leaves, n)) keys.push(memo[n]);
  // Go's depth-first walk yields byte-wise order.
  return keys.sort(compareBytes);
}

/** Writes sing's `succinctSetData`: reserved byte, leaves, label bitmap, labels. */
export function writeSuccinctSet(w: ByteWriter, set: SuccinctSet): void {
  w.u8(0).u64List(set.leaves).u64List(set.labelBitmap).u8List(Array.from(set.labels));
}

/** Reads sing's `succinctSetData`. */
export function readSuccinctSet(r: ByteReader): SuccinctSet {
  r.u8(); // reserved
  const leaves = r.u64List();
  const labelBitmap = r.u64List();
  const labels = new Uint8Array(r.u8List());
  return { leaves, labelBitmap, labels };
}

/** Reverses a domain by code point and returns it as a byte string (UTF-8, one char per byte). */
export function reverseToBytes(text: string): string {
  const reversed = [...text].reverse().join("");
  let out = "";
  for (const b of new TextEncoder().encode(reversed)) out += String.fromCharCode(b);
  return out;
}

/** Inverse of {@linkcode reverseToBytes}. */
export function bytesToReversed(bytes: string): string {
  const buf = Uint8Array.from(bytes, (c) => c.charCodeAt(0));
  return [...new TextDecoder().decode(buf)].reverse().join("");
}

/** Byte-wise comparison (Go `sort.Strings` order for byte strings). */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
