/**
 * The AWG-style framer (paniq.md §3.1–3.2): `S_n` random bytes, a little-endian uint32 drawn
 * from `H_n`, then the payload; decoding tries all four types and needs exactly one match.
 * Also builds the junk and signature datagrams of the preamble.
 *
 * @module
 */
import { type Chain, generateSignature, parseChainSet } from "./chain.ts";
import { HEADER_SIZE, MessageType } from "./constants.ts";
import { generateHeader, headerContains, type HeaderRange, parseHeaderSet } from "./header_range.ts";
import { fillRandomAt, randomBytes, randomRange } from "./random.ts";

/** The J/S/H/I obfuscation parameters (profile `obfuscation` block, §4.3). */
export interface ObfParams {
  jc: number;
  jmin: number;
  jmax: number;
  s1: number;
  s2: number;
  s3: number;
  s4: number;
  h1: string;
  h2: string;
  h3: string;
  h4: string;
  i1: string;
  i2: string;
  i3: string;
  i4: string;
  i5: string;
}

/** A decoded frame. `payload` is a view into the datagram. */
export interface DecodedFrame {
  type: MessageType;
  payload: Uint8Array;
}

const TYPES: MessageType[] = [
  MessageType.Initiation,
  MessageType.Response,
  MessageType.CookieReply,
  MessageType.Transport,
];

/**
 * Validates the J/S parameters the way Go's `obf.Config.Validate` does.
 *
 * @throws {RangeError} On a negative count/size or `jmin > jmax` with `jmax > 0`
 */
export function validateObfParams(p: ObfParams): void {
  if (p.jc < 0) throw new RangeError("jc must be non-negative");
  if (p.jmin < 0 || p.jmax < 0) throw new RangeError("jmin/jmax must be non-negative");
  if (p.jmax > 0 && p.jmin > p.jmax) throw new RangeError("jmin must be <= jmax");
  if (p.s1 < 0 || p.s2 < 0 || p.s3 < 0 || p.s4 < 0) throw new RangeError("s1-s4 must be non-negative");
}

/** Frames and unframes datagrams for one obfuscation profile. */
export class Framer {
  readonly params: ObfParams;
  readonly headers: HeaderRange[];
  readonly chains: Chain[];
  readonly #padding: number[];

  /**
   * @throws {RangeError | SyntaxError} If the parameters, header ranges or chains are invalid
   */
  constructor(params: ObfParams) {
    validateObfParams(params);
    this.params = params;
    this.headers = parseHeaderSet([params.h1, params.h2, params.h3, params.h4]);
    this.chains = parseChainSet([params.i1, params.i2, params.i3, params.i4, params.i5]);
    this.#padding = [params.s1, params.s2, params.s3, params.s4];
  }

  /** The fixed random prefix length `S_n` of `type`. */
  paddingFor(type: MessageType): number {
    return this.#padding[type - 1];
  }

  /** Byte count `S_n + 4` before the payload of `type`. */
  overhead(type: MessageType): number {
    return this.#padding[type - 1] + HEADER_SIZE;
  }

  /**
   * Writes the prefix (random padding and a fresh header value) of a `type` frame into
   * `out[0 .. overhead(type))`. The caller writes the payload after it.
   */
  writePrefix(type: MessageType, out: Uint8Array): void {
    const s = this.#padding[type - 1];
    if (s > 0) fillRandomAt(out, 0, s);
    const h = generateHeader(this.headers[type - 1]);
    out[s] = h & 0xff;
    out[s + 1] = (h >>> 8) & 0xff;
    out[s + 2] = (h >>> 16) & 0xff;
    out[s + 3] = (h >>> 24) & 0xff;
  }

  /** Builds a complete frame. */
  encodeFrame(type: MessageType, payload: Uint8Array): Uint8Array {
    const pre = this.overhead(type);
    const out = new Uint8Array(pre + payload.length);
    this.writePrefix(type, out);
    out.set(payload, pre);
    return out;
  }

  /** Decodes a datagram; `null` unless exactly one type's header matches. */
  decodeFrame(datagram: Uint8Array): DecodedFrame | null {
    const found = this.frameType(datagram);
    if (found === 0) return null;
    return { type: found, payload: datagram.subarray(this.overhead(found)) };
  }

  /**
   * The type of a datagram (its payload starts at {@linkcode overhead}), or 0 unless exactly one
   * type's header matches. Allocates nothing.
   */
  frameType(datagram: Uint8Array): MessageType | 0 {
    let found: MessageType | 0 = 0;
    for (const type of TYPES) {
      const s = this.#padding[type - 1];
      if (datagram.length < s + HEADER_SIZE) continue;
      const v = (datagram[s] | (datagram[s + 1] << 8) | (datagram[s + 2] << 16) | (datagram[s + 3] << 24)) >>>
        0;
      if (headerContains(this.headers[type - 1], v)) {
        if (found !== 0) return 0;
        found = type;
      }
    }
    return found;
  }

  /**
   * The junk datagrams (§3.2). None when `jc`, `jmin` or `jmax` is 0 — the Go client's rule,
   * although the Go server still expects `jc` of them.
   */
  junkDatagrams(): Uint8Array[] {
    const { jc, jmin, jmax } = this.params;
    if (jc === 0 || jmin <= 0 || jmax <= 0) return [];
    const out: Uint8Array[] = [];
    for (let i = 0; i < jc; i++) out.push(randomBytes(randomRange(jmin, jmax)));
    return out;
  }

  /** The signature datagrams for the non-empty I-specs, in order. */
  signatureDatagrams(nowSeconds: number): Uint8Array[] {
    return this.chains.map((c) => generateSignature(c, nowSeconds));
  }
}
