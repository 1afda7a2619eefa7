/**
 * X25519 key helpers (Go `obf.DecodeKeyBase64`, `DerivePublicKey`, `bf keygen`).
 *
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { randomBytes } from "./random.ts";

/** Std base64 with padding. */
export function encodeBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

/**
 * Strict std base64 decode.
 *
 * @throws {SyntaxError} If the text is not valid base64
 */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new SyntaxError(`Cannot decode base64 "${text.slice(0, 16)}…": illegal base64 data`);
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Decodes a base64 32-byte key.
 *
 * @throws {SyntaxError | RangeError} If it is not base64 or not 32 bytes
 */
export function decodeKey(text: string): Uint8Array {
  const raw = decodeBase64(text);
  if (raw.length !== 32) throw new RangeError(`invalid key length ${raw.length}`);
  return raw;
}

/** The X25519 public key of `privateKey` (clamping happens inside X25519). */
export function derivePublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

/** A fresh key pair as base64 (32 random bytes, as `bf keygen`). */
export function generateKeyPair(): { privateKey: string; publicKey: string } {
  const priv = randomBytes(32);
  return { privateKey: encodeBase64(priv), publicKey: encodeBase64(derivePublicKey(priv)) };
}
