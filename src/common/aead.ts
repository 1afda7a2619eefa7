/**
 * Synchronous AEAD with a 12-byte nonce and a 16-byte tag, picked for speed at runtime:
 * OpenSSL through FFI when it loads (GB/s), else `node:crypto` (native ChaCha20-Poly1305,
 * slow AES-GCM). XChaCha20-Poly1305 (24-byte nonce) uses `@noble/ciphers`.
 * See `bench/protocols.ts` and environment.md §7 for the measurements behind the choice.
 *
 * @module
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { EvpAead, EvpAesEcb, libcrypto } from "../../ffi/libcrypto.ts";

/** AEAD names used by the proxy protocols. */
export type AeadName =
  | "aes-128-gcm"
  | "aes-192-gcm"
  | "aes-256-gcm"
  | "chacha20-poly1305"
  | "xchacha20-poly1305";

/** One AEAD key. `sealTo`/`openTo` may be called with `dst` aliasing `src`. */
export interface Aead {
  readonly name: AeadName;
  readonly keySize: number;
  readonly nonceSize: number;
  readonly tagSize: 16;
  /** Encrypts `src` into `dst` followed by the tag; returns `src.length + 16`. */
  sealTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number;
  /** Decrypts `src` (ciphertext plus tag) into `dst`; returns the plaintext length, or -1 if forged. */
  openTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number;
}

/** Key sizes in bytes. */
export const AEAD_KEY_SIZE: Record<AeadName, number> = {
  "aes-128-gcm": 16,
  "aes-192-gcm": 24,
  "aes-256-gcm": 32,
  "chacha20-poly1305": 32,
  "xchacha20-poly1305": 32,
};

class FfiAead implements Aead {
  readonly tagSize = 16 as const;
  readonly nonceSize = 12;
  readonly keySize: number;
  #evp: EvpAead;
  constructor(readonly name: Exclude<AeadName, "xchacha20-poly1305">, key: Uint8Array) {
    this.keySize = key.length;
    this.#evp = new EvpAead(name, key);
  }
  sealTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    return this.#evp.sealTo(dst, nonce, src, aad);
  }
  openTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    return this.#evp.openTo(dst, nonce, src, aad);
  }
}

class NodeAead implements Aead {
  readonly tagSize = 16 as const;
  readonly nonceSize = 12;
  readonly keySize: number;
  #key: Uint8Array;
  #alg: string;
  constructor(readonly name: Exclude<AeadName, "xchacha20-poly1305">, key: Uint8Array) {
    this.keySize = key.length;
    this.#key = key.slice();
    this.#alg = name;
  }
  sealTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    const c = createCipheriv(this.#alg as "aes-128-gcm", this.#key, nonce, { authTagLength: 16 });
    if (aad && aad.length) c.setAAD(aad);
    const a = c.update(src);
    const b = c.final();
    const n = a.length + b.length;
    dst.set(a, 0);
    if (b.length) dst.set(b, a.length);
    dst.set(c.getAuthTag(), n);
    return n + 16;
  }
  openTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    const n = src.length - 16;
    if (n < 0) return -1;
    try {
      const d = createDecipheriv(this.#alg as "aes-128-gcm", this.#key, nonce, { authTagLength: 16 });
      if (aad && aad.length) d.setAAD(aad);
      d.setAuthTag(src.slice(n));
      const a = d.update(src.subarray(0, n));
      const b = d.final();
      dst.set(a, 0);
      if (b.length) dst.set(b, a.length);
      return a.length + b.length;
    } catch {
      return -1;
    }
  }
}

class NobleXChaCha implements Aead {
  readonly name = "xchacha20-poly1305" as const;
  readonly tagSize = 16 as const;
  readonly nonceSize = 24;
  readonly keySize = 32;
  #key: Uint8Array;
  constructor(key: Uint8Array) {
    this.#key = key.slice();
  }
  sealTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    const out = xchacha20poly1305(this.#key, nonce, aad).encrypt(src);
    dst.set(out, 0);
    return out.length;
  }
  openTo(dst: Uint8Array, nonce: Uint8Array, src: Uint8Array, aad?: Uint8Array): number {
    try {
      const out = xchacha20poly1305(this.#key, nonce, aad).decrypt(src);
      dst.set(out, 0);
      return out.length;
    } catch {
      return -1;
    }
  }
}

/** Which backend {@linkcode createAead} uses for the 12-byte-nonce ciphers. */
export function aeadBackend(): "openssl-ffi" | "node:crypto" {
  return libcrypto() ? "openssl-ffi" : "node:crypto";
}

/**
 * Creates an AEAD for `name` with `key`.
 *
 * @throws {RangeError} If the key length does not match the algorithm.
 */
export function createAead(name: AeadName, key: Uint8Array, options?: { backend?: "node:crypto" }): Aead {
  if (key.length !== AEAD_KEY_SIZE[name]) {
    throw new RangeError(
      `Invalid key length for ${name}: expected ${AEAD_KEY_SIZE[name]}, got ${key.length}`,
    );
  }
  if (name === "xchacha20-poly1305") return new NobleXChaCha(key);
  if (options?.backend !== "node:crypto" && libcrypto()) return new FfiAead(name, key);
  return new NodeAead(name, key);
}

/** AES-ECB block encryption (no padding) for whole blocks. */
export interface BlockCipher {
  encrypt(dst: Uint8Array, src: Uint8Array): void;
  decrypt(dst: Uint8Array, src: Uint8Array): void;
}

class NodeEcb implements BlockCipher {
  #alg: string;
  #key: Uint8Array;
  constructor(key: Uint8Array) {
    this.#alg = key.length === 16 ? "aes-128-ecb" : "aes-256-ecb";
    this.#key = key.slice();
  }
  encrypt(dst: Uint8Array, src: Uint8Array): void {
    const c = createCipheriv(this.#alg, this.#key, null);
    c.setAutoPadding(false);
    dst.set(c.update(src), 0);
  }
  decrypt(dst: Uint8Array, src: Uint8Array): void {
    const c = createDecipheriv(this.#alg, this.#key, null);
    c.setAutoPadding(false);
    dst.set(c.update(src), 0);
  }
}

/**
 * Creates an AES-ECB block cipher for a 16- or 32-byte key.
 *
 * @throws {RangeError} If the key is not 16 or 32 bytes.
 */
export function createAesEcb(key: Uint8Array): BlockCipher {
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`Invalid AES key length: ${key.length}`);
  return libcrypto() ? new EvpAesEcb(key) : new NodeEcb(key);
}
