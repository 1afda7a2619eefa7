/**
 * VMess body framing (sans-I/O). With the ChunkStream option each chunk is
 * `size(2) ‖ seal(payload) ‖ padding`, where `size` counts the sealed payload plus padding and
 * is XORed with SHAKE128(iv) output under ChunkMasking; GlobalPadding draws the padding length
 * from the same stream (before the mask). The AEAD nonce is `count(2, BE) ‖ iv[2..12]`.
 * An empty payload ends the stream. Without ChunkStream ("zero") the body is raw.
 * With AuthenticatedLength (sing-vmess `chunk_length_aead.go`) the size is instead sealed:
 * `seal(BE16(size − 16))` (18 bytes) under a key `KDF(requestKey, "auth_len")[:16]` (AES-128-GCM,
 * or ChaCha20-Poly1305 with the MD5-expanded key) and nonce `count(2) ‖ requestIV[2..12]` with
 * its own counter, in both directions; global padding still comes from SHAKE128(iv).
 *
 * @module
 */
import { shake128 } from "@noble/hashes/sha3.js";
import { type Aead, createAead } from "../../common/aead.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import {
  OPT_AUTHENTICATED_LENGTH,
  OPT_CHUNK_MASKING,
  OPT_CHUNK_STREAM,
  OPT_GLOBAL_PADDING,
  SECURITY,
} from "./header.ts";
import { chachaBodyKey, kdf16 } from "./kdf.ts";

/** Largest payload this implementation puts in one chunk. */
export const VMESS_MAX_PAYLOAD = 16384 - 16;

/** SHAKE128 output read two bytes at a time (v2ray `ShakeSizeParser`). */
export class ShakeMask {
  #xof: ReturnType<typeof shake128.create>;
  #buf = new Uint8Array(0);
  #pos = 0;
  constructor(iv: Uint8Array) {
    this.#xof = shake128.create({});
    this.#xof.update(iv);
  }
  /** Next 16-bit value. */
  next(): number {
    if (this.#pos + 2 > this.#buf.length) {
      this.#buf = this.#xof.xof(256);
      this.#pos = 0;
    }
    const v = (this.#buf[this.#pos] << 8) | this.#buf[this.#pos + 1];
    this.#pos += 2;
    return v;
  }
}

/** Parameters shared by both directions. */
export interface BodyParams {
  security: number;
  option: number;
  key: Uint8Array;
  iv: Uint8Array;
  /** The request body key and IV (authenticated length keys derive from them in both directions). */
  requestKey?: Uint8Array;
  requestIv?: Uint8Array;
}

/** A counter-nonce AEAD for sealed chunk sizes. */
class LengthSealer {
  readonly aead: Aead;
  readonly nonce = new Uint8Array(12);
  #count = 0;
  constructor(p: BodyParams) {
    if (!p.requestKey || !p.requestIv) throw new Error("authenticated length needs the request key and IV");
    const k = kdf16(p.requestKey, "auth_len");
    this.aead = p.security === SECURITY["chacha20-poly1305"]
      ? createAead("chacha20-poly1305", chachaBodyKey(k))
      : createAead("aes-128-gcm", k);
    this.nonce.set(p.requestIv.subarray(2, 12), 2);
  }
  nextNonce(): Uint8Array {
    this.nonce[0] = this.#count >> 8;
    this.nonce[1] = this.#count & 0xff;
    this.#count = (this.#count + 1) & 0xffff;
    return this.nonce;
  }
}

function bodyAead(p: BodyParams): Aead | null {
  if (p.security === SECURITY["aes-128-gcm"]) return createAead("aes-128-gcm", p.key);
  if (p.security === SECURITY["chacha20-poly1305"]) {
    return createAead("chacha20-poly1305", chachaBodyKey(p.key));
  }
  if (p.security === SECURITY.none || p.security === SECURITY.zero) return null;
  throw new ProtocolError("vmess", 0, `unsupported security ${p.security}`);
}

class BodyState {
  readonly aead: Aead | null;
  readonly chunked: boolean;
  readonly mask: ShakeMask | null;
  readonly padding: boolean;
  readonly nonce = new Uint8Array(12);
  readonly authLength: LengthSealer | null;
  #count = 0;
  constructor(p: BodyParams) {
    this.aead = bodyAead(p);
    this.chunked = (p.option & OPT_CHUNK_STREAM) !== 0;
    this.authLength = this.chunked && (p.option & OPT_AUTHENTICATED_LENGTH) ? new LengthSealer(p) : null;
    const masking = (p.option & OPT_CHUNK_MASKING) !== 0 && !this.authLength;
    this.padding = (masking || this.authLength !== null) && (p.option & OPT_CHUNK_MASKING) !== 0 &&
      (p.option & OPT_GLOBAL_PADDING) !== 0;
    this.mask = masking || this.padding ? new ShakeMask(p.iv) : null;
    this.nonce.set(p.iv.subarray(2, 12), 2);
  }
  get overhead(): number {
    return this.aead ? 16 : 0;
  }
  nextNonce(): Uint8Array {
    this.nonce[0] = this.#count >> 8;
    this.nonce[1] = this.#count & 0xff;
    this.#count = (this.#count + 1) & 0xffff;
    return this.nonce;
  }
  nextPadding(): number {
    return this.padding ? this.mask!.next() % 64 : 0;
  }
  nextMask(): number {
    return this.mask ? this.mask.next() : 0;
  }
}

/** Encodes one direction of a VMess body. */
export class VmessBodyEncoder implements StreamEncoder {
  #s: BodyState;
  #out = new Uint8Array(0);
  /** In packet mode every `encode` call is one chunk (UDP); it must fit one chunk. */
  readonly packetMode: boolean;

  constructor(p: BodyParams, packetMode = false) {
    this.#s = new BodyState(p);
    this.packetMode = packetMode;
  }

  #chunk(out: Uint8Array, o: number, piece: Uint8Array): number {
    const s = this.#s;
    const pad = s.nextPadding();
    const size = piece.length + s.overhead + pad;
    if (s.authLength) {
      const a = s.authLength;
      const field = (size - 16) & 0xffff;
      o += a.aead.sealTo(out.subarray(o), a.nextNonce(), new Uint8Array([field >> 8, field & 0xff]));
    } else {
      const masked = size ^ s.nextMask();
      out[o++] = (masked >> 8) & 0xff;
      out[o++] = masked & 0xff;
    }
    if (s.aead) o += s.aead.sealTo(out.subarray(o), s.nextNonce(), piece);
    else {
      out.set(piece, o);
      o += piece.length;
    }
    if (pad) {
      crypto.getRandomValues(out.subarray(o, o + pad));
      o += pad;
    }
    return o;
  }

  encode(p: Uint8Array): Uint8Array {
    const s = this.#s;
    if (!s.chunked) return p;
    if (this.packetMode && p.length > VMESS_MAX_PAYLOAD) {
      throw new RangeError(`Packet of ${p.length} bytes exceeds ${VMESS_MAX_PAYLOAD}`);
    }
    const chunks = Math.max(1, Math.ceil(p.length / VMESS_MAX_PAYLOAD));
    const need = p.length + chunks * (18 + 16 + 64);
    if (this.#out.length < need) this.#out = new Uint8Array(Math.max(need, 64 * 1024));
    const out = this.#out;
    let o = 0;
    if (p.length === 0) return out.subarray(0, 0);
    for (let i = 0; i < p.length; i += VMESS_MAX_PAYLOAD) {
      o = this.#chunk(out, o, p.subarray(i, Math.min(p.length, i + VMESS_MAX_PAYLOAD)));
    }
    return out.subarray(0, o);
  }

  finish(): Uint8Array | null {
    if (!this.#s.chunked) return null;
    const out = new Uint8Array(18 + 16 + 64);
    return out.slice(0, this.#chunk(out, 0, new Uint8Array(0)));
  }
}

/** Decodes one direction of a VMess body. */
export class VmessBodyDecoder implements StreamDecoder {
  #s: BodyState;
  #size = -1;
  #pad = 0;
  done = false;

  constructor(p: BodyParams) {
    this.#s = new BodyState(p);
  }

  decode(q: ByteQueue): Uint8Array | null {
    const s = this.#s;
    if (!s.chunked) return q.length ? q.take(q.length) : null;
    if (this.done) return null;
    if (this.#size < 0) {
      if (s.authLength) {
        if (q.length < 18) return null;
        const a = s.authLength;
        const sealed = q.take(18);
        const b = new Uint8Array(2);
        if (a.aead.openTo(b, a.nextNonce(), sealed) !== 2) {
          throw new ProtocolError("vmess", 0, "chunk length authentication failed");
        }
        this.#pad = s.nextPadding();
        this.#size = (((b[0] << 8) | b[1]) + 16) & 0xffff;
      } else {
        if (q.length < 2) return null;
        const b = q.take(2);
        this.#pad = s.nextPadding();
        this.#size = ((b[0] << 8) | b[1]) ^ s.nextMask();
      }
      if (this.#size < s.overhead + this.#pad) {
        throw new ProtocolError("vmess", 0, `bad chunk size ${this.#size}`);
      }
    }
    if (q.length < this.#size) return null;
    const size = this.#size;
    const pad = this.#pad;
    this.#size = -1;
    const sealed = q.take(size).subarray(0, size - pad);
    let plain: Uint8Array;
    if (s.aead) {
      const n = s.aead.openTo(sealed, s.nextNonce(), sealed);
      if (n < 0) throw new ProtocolError("vmess", 0, "chunk authentication failed");
      plain = sealed.subarray(0, n);
    } else {
      plain = sealed;
    }
    if (plain.length === 0) this.done = true;
    return plain;
  }
}
