/**
 * Signature chains I1–I5 (paniq.md §3.2): a spec is a run of `<tag [arg]>` items, text outside
 * `<…>` is ignored and only the first argument counts. In the preamble every chain is applied
 * to a zero-length input, so each chain has a fixed output length.
 *
 * @module
 */
import { fillRandom } from "./random.ts";

/** One parsed chain item. */
export type ChainItem =
  | { tag: "b"; bytes: Uint8Array }
  | { tag: "t" }
  | { tag: "r" | "rc" | "rd" | "dz"; length: number }
  | { tag: "d" | "ds" };

/** A parsed chain: its spec text, items, and output length for empty input. */
export interface Chain {
  spec: string;
  items: ChainItem[];
  length: number;
}

/** What validating a signature datagram extracted. */
export interface SignatureInfo {
  /** `<t>` value: Unix seconds, big-endian uint32 on the wire. */
  timestamp?: number;
}

const INT_RE = /^[+-]?[0-9]+$/;
const HEX_RE = /^[0-9a-fA-F]*$/;
const MAX_ITEM_LENGTH = 65535;

function parseLength(tag: string, arg: string): number {
  if (!INT_RE.test(arg)) throw new SyntaxError(`failed to build <${tag}>: "${arg}" is not an integer`);
  const n = Number(arg);
  if (n < 0 || n > MAX_ITEM_LENGTH) {
    throw new RangeError(`failed to build <${tag}>: length ${n} out of range 0..${MAX_ITEM_LENGTH}`);
  }
  return n;
}

function buildItem(tag: string, arg: string): ChainItem {
  switch (tag) {
    case "b": {
      const hex = arg.startsWith("0x") ? arg.slice(2) : arg;
      if (hex.length === 0) throw new SyntaxError("failed to build <b>: empty argument");
      if (hex.length % 2 !== 0) throw new SyntaxError("failed to build <b>: odd amount of symbols");
      if (!HEX_RE.test(hex)) throw new SyntaxError(`failed to build <b>: "${arg}" is not hex`);
      const bytes = new Uint8Array(hex.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      return { tag: "b", bytes };
    }
    case "t":
      return { tag: "t" };
    case "r":
    case "rc":
    case "rd":
    case "dz":
      return { tag, length: parseLength(tag, arg) };
    case "d":
    case "ds":
      return { tag };
    default:
      throw new SyntaxError(`unknown tag <${tag}>`);
  }
}

function itemLength(item: ChainItem): number {
  switch (item.tag) {
    case "b":
      return item.bytes.length;
    case "t":
      return 4;
    case "r":
    case "rc":
    case "rd":
    case "dz":
      return item.length;
    default:
      return 0; // <d> and <ds> of an empty input
  }
}

/**
 * Parses a chain spec. All item errors are collected into one message, as Go joins them.
 *
 * @throws {SyntaxError} On an unknown tag, an empty `<>`, a missing `>` or a bad argument
 */
export function parseChain(spec: string): Chain {
  const items: ChainItem[] = [];
  const errors: string[] = [];
  let rest = spec;
  for (;;) {
    const start = rest.indexOf("<");
    if (start === -1) break;
    const endRel = rest.slice(start).indexOf(">");
    if (endRel === -1) throw new SyntaxError(`Cannot parse chain "${spec}": missing enclosing >`);
    const end = start + endRel;
    const fields = rest.slice(start + 1, end).split(/\s+/).filter((f) => f !== "");
    rest = rest.slice(end + 1);
    if (fields.length === 0) {
      errors.push("empty tag");
      continue;
    }
    try {
      items.push(buildItem(fields[0], fields[1] ?? ""));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new SyntaxError(`Cannot parse chain "${spec}": ${errors.join("; ")}`);
  return { spec, items, length: items.reduce((a, it) => a + itemLength(it), 0) };
}

/**
 * Parses I1..I5, skipping empty specs and compacting the list (§3.2).
 *
 * @throws {SyntaxError} Naming the failing `iN`
 */
export function parseChainSet(specs: readonly string[]): Chain[] {
  const out: Chain[] = [];
  specs.forEach((spec, i) => {
    if (spec === "") return;
    try {
      out.push(parseChain(spec));
    } catch (e) {
      throw new SyntaxError(`i${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Builds the signature datagram of `chain` for an empty input at `nowSeconds`. */
export function generateSignature(chain: Chain, nowSeconds: number): Uint8Array {
  const out = new Uint8Array(chain.length);
  let off = 0;
  for (const item of chain.items) {
    const len = itemLength(item);
    const seg = out.subarray(off, off + len);
    switch (item.tag) {
      case "b":
        seg.set(item.bytes);
        break;
      case "t":
        new DataView(out.buffer, off, 4).setUint32(0, nowSeconds >>> 0);
        break;
      case "r":
        fillRandom(seg);
        break;
      case "rc":
        fillRandom(seg);
        for (let i = 0; i < len; i++) seg[i] = LETTERS.charCodeAt(seg[i] % 52);
        break;
      case "rd":
        fillRandom(seg);
        for (let i = 0; i < len; i++) seg[i] = 0x30 + (seg[i] % 10);
        break;
        // dz: the length of an empty input is 0, i.e. all-zero bytes; d/ds: nothing.
    }
    off += len;
  }
  return out;
}

/**
 * Validates a received signature datagram against `chain` (server side, §3.2): the exact
 * length, then `<b>` bytes, `<rc>` letters and `<rd>` digits. Returns `null` when invalid.
 */
export function validateSignature(chain: Chain, data: Uint8Array): SignatureInfo | null {
  if (data.length !== chain.length) return null;
  const info: SignatureInfo = {};
  let off = 0;
  for (const item of chain.items) {
    const len = itemLength(item);
    const seg = data.subarray(off, off + len);
    switch (item.tag) {
      case "b":
        for (let i = 0; i < len; i++) if (seg[i] !== item.bytes[i]) return null;
        break;
      case "t":
        info.timestamp = new DataView(data.buffer, data.byteOffset + off, 4).getUint32(0);
        break;
      case "rc":
        for (const b of seg) {
          if (!((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))) return null;
        }
        break;
      case "rd":
        for (const b of seg) if (b < 0x30 || b > 0x39) return null;
        break;
    }
    off += len;
  }
  return info;
}
