/**
 * VMess AEAD key derivation: a chain of HMACs where each level uses the previous HMAC as its
 * hash function (v2ray `proxy/vmess/aead/kdf.go`), rooted at HMAC-SHA256 keyed with
 * "VMess AEAD KDF". Also the user command key and the CRC32 and FNV-1a checksums.
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { md5 } from "@noble/hashes/legacy.js";

const enc = new TextEncoder();
const ROOT_KEY = enc.encode("VMess AEAD KDF");
const BLOCK = 64;

type HashFn = (msg: Uint8Array) => Uint8Array;

function hmacOver(h: HashFn, key: Uint8Array): HashFn {
  let k = key.length > BLOCK ? h(key) : key;
  const padded = new Uint8Array(BLOCK);
  padded.set(k);
  k = padded;
  const ipad = k.map((b) => b ^ 0x36);
  const opad = k.map((b) => b ^ 0x5c);
  return (msg) => {
    const inner = new Uint8Array(BLOCK + msg.length);
    inner.set(ipad);
    inner.set(msg, BLOCK);
    const ih = h(inner);
    const outer = new Uint8Array(BLOCK + ih.length);
    outer.set(opad);
    outer.set(ih, BLOCK);
    return h(outer);
  };
}

/** A KDF path element: a label or raw bytes (auth ID, connection nonce). */
export type KdfPath = string | Uint8Array;

/** VMess AEAD KDF: 32 bytes. */
export function kdf(key: Uint8Array, ...path: KdfPath[]): Uint8Array {
  let h: HashFn = (m) => hmac(sha256, ROOT_KEY, m);
  for (const p of path) h = hmacOver(h, typeof p === "string" ? enc.encode(p) : p);
  return h(key);
}

/** First 16 bytes of {@linkcode kdf}. */
export function kdf16(key: Uint8Array, ...path: KdfPath[]): Uint8Array {
  return kdf(key, ...path).subarray(0, 16);
}

const CMD_KEY_SALT = enc.encode("c48619fe-8f02-49e0-b9e9-edf763e17e21");

/** The user's command key: MD5(uuid ‖ fixed salt). */
export function cmdKey(uuid: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + CMD_KEY_SALT.length);
  b.set(uuid);
  b.set(CMD_KEY_SALT, 16);
  return md5(b);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE). */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** FNV-1a 32-bit. */
export function fnv1a32(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The ChaCha20-Poly1305 body key VMess derives from a 16-byte key: MD5(k) ‖ MD5(MD5(k)). */
export function chachaBodyKey(k: Uint8Array): Uint8Array {
  const a = md5(k);
  const out = new Uint8Array(32);
  out.set(a);
  out.set(md5(a), 16);
  return out;
}

/** SHA-256 (response key and IV derivation). */
export function sha256Of(b: Uint8Array): Uint8Array {
  return sha256(b);
}
