/**
 * Shadowsocks AEAD stream framing (SIP004, and SIP022 after its headers), sans-I/O.
 *
 * Each chunk is `seal(len as u16 BE) ‖ seal(payload)`; the nonce is a little-endian counter
 * starting at zero and incremented after every seal/open. The classic methods cap a payload at
 * 0x3FFF bytes, SIP022 at 0xFFFF.
 *
 * @module
 */
import { type Aead, createAead } from "../../common/aead.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import { incrementNonce, sessionKey, type ShadowsocksMethod } from "./method.ts";

/** Largest payload per chunk for SIP004 methods. */
export const AEAD_MAX_PAYLOAD = 0x3fff;
/** Largest payload per chunk for SIP022 methods. */
export const SS2022_MAX_PAYLOAD = 0xffff;

/** Seals plaintext into length-prefixed chunks with a counter nonce. */
export class AeadChunkSealer {
  readonly aead: Aead;
  readonly nonce: Uint8Array;
  readonly maxPayload: number;
  #out = new Uint8Array(0);

  constructor(aead: Aead, maxPayload: number) {
    this.aead = aead;
    this.nonce = new Uint8Array(aead.nonceSize);
    this.maxPayload = maxPayload;
  }

  /** Wire size of `n` plaintext bytes. */
  sizeOf(n: number): number {
    const chunks = Math.ceil(n / this.maxPayload);
    return n + chunks * 34;
  }

  /** Seals one AEAD block (no length prefix) into `dst` at `offset`; returns the new offset. */
  sealBlock(dst: Uint8Array, offset: number, src: Uint8Array): number {
    const n = this.aead.sealTo(dst.subarray(offset), this.nonce, src);
    incrementNonce(this.nonce);
    return offset + n;
  }

  /** Writes the chunks for `p` into `dst` at `offset`; returns the new offset. */
  sealChunks(dst: Uint8Array, offset: number, p: Uint8Array): number {
    const len = new Uint8Array(2);
    let o = offset;
    for (let i = 0; i < p.length; i += this.maxPayload) {
      const piece = p.subarray(i, Math.min(p.length, i + this.maxPayload));
      len[0] = piece.length >> 8;
      len[1] = piece.length & 0xff;
      o = this.sealBlock(dst, o, len);
      o = this.sealBlock(dst, o, piece);
    }
    return o;
  }

  /** Returns a reused buffer of at least `n` bytes. */
  scratch(n: number): Uint8Array {
    if (this.#out.length < n) this.#out = new Uint8Array(Math.max(n, 64 * 1024));
    return this.#out;
  }
}

/** Opens length-prefixed chunks from a queue. */
export class AeadChunkOpener {
  readonly aead: Aead;
  readonly nonce: Uint8Array;
  readonly maxPayload: number;
  readonly protocol: string;
  #want = -1;

  constructor(aead: Aead, maxPayload: number, protocol = "shadowsocks") {
    this.aead = aead;
    this.nonce = new Uint8Array(aead.nonceSize);
    this.maxPayload = maxPayload;
    this.protocol = protocol;
  }

  /**
   * Opens one sealed block of `n` plaintext bytes from the front of `q` in place.
   * Returns the plaintext view or `null` if `q` holds fewer than `n + 16` bytes.
   *
   * @throws {ProtocolError} If authentication fails.
   */
  openBlock(q: ByteQueue, n: number): Uint8Array | null {
    if (q.length < n + 16) return null;
    const sealed = q.take(n + 16);
    const r = this.aead.openTo(sealed, this.nonce, sealed);
    if (r < 0) throw new ProtocolError(this.protocol, 0, "authentication failed");
    incrementNonce(this.nonce);
    return sealed.subarray(0, n);
  }

  /** Decodes the next chunk payload, or `null` if more bytes are needed. */
  decode(q: ByteQueue): Uint8Array | null {
    if (this.#want < 0) {
      const len = this.openBlock(q, 2);
      if (!len) return null;
      this.#want = (len[0] << 8) | len[1];
      if (this.#want > this.maxPayload) {
        throw new ProtocolError(this.protocol, 0, `chunk length ${this.#want} exceeds ${this.maxPayload}`);
      }
    }
    const payload = this.openBlock(q, this.#want);
    if (!payload) return null;
    this.#want = -1;
    return payload;
  }
}

/** Client or server side encoder for SIP004: the salt goes before the first chunk. */
export class ShadowsocksAeadEncoder implements StreamEncoder {
  #method: ShadowsocksMethod;
  #key: Uint8Array;
  #salt: Uint8Array | null;
  #sealer: AeadChunkSealer | null = null;

  /** `salt` is for tests; a random one is drawn otherwise. */
  constructor(method: ShadowsocksMethod, key: Uint8Array, salt?: Uint8Array) {
    this.#method = method;
    this.#key = key;
    this.#salt = salt ?? crypto.getRandomValues(new Uint8Array(method.saltSize));
  }

  encode(p: Uint8Array): Uint8Array {
    let sealer = this.#sealer;
    let o = 0;
    let out: Uint8Array;
    if (!sealer) {
      const salt = this.#salt!;
      this.#salt = null;
      sealer = this.#sealer = new AeadChunkSealer(
        createAead(this.#method.aead, sessionKey(this.#method, this.#key, salt)),
        AEAD_MAX_PAYLOAD,
      );
      out = sealer.scratch(salt.length + sealer.sizeOf(p.length));
      out.set(salt);
      o = salt.length;
    } else {
      out = sealer.scratch(sealer.sizeOf(p.length));
    }
    o = sealer.sealChunks(out, o, p);
    return out.subarray(0, o);
  }
}

/** Decoder for SIP004: reads the salt, then chunks. */
export class ShadowsocksAeadDecoder implements StreamDecoder {
  #method: ShadowsocksMethod;
  #key: Uint8Array;
  #opener: AeadChunkOpener | null = null;
  /** The peer's salt once read (for replay filtering). */
  salt: Uint8Array | null = null;

  constructor(method: ShadowsocksMethod, key: Uint8Array) {
    this.#method = method;
    this.#key = key;
  }

  decode(q: ByteQueue): Uint8Array | null {
    if (!this.#opener) {
      if (q.length < this.#method.saltSize) return null;
      this.salt = q.take(this.#method.saltSize).slice();
      this.#opener = new AeadChunkOpener(
        createAead(this.#method.aead, sessionKey(this.#method, this.#key, this.salt)),
        AEAD_MAX_PAYLOAD,
      );
    }
    return this.#opener.decode(q);
  }
}
