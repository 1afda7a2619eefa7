/**
 * Shadowsocks cipher table and key derivation.
 *
 * - AEAD (SIP004): key = EVP_BytesToKey(MD5, password); per-session subkey =
 *   HKDF-SHA1(key, salt, "ss-subkey"); salt length = key length.
 * - 2022 (SIP022): the key is the base64 PSK itself; per-session subkey =
 *   BLAKE3-derive-key("shadowsocks 2022 session subkey", key ‖ salt).
 *
 * @module
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { blake3 } from "@noble/hashes/blake3.js";
import { AEAD_KEY_SIZE, type AeadName } from "../../common/aead.ts";
import { ConfigError } from "../../common/errors.ts";

/** A supported Shadowsocks method. */
export interface ShadowsocksMethod {
  /** Canonical name as sing-box writes it. */
  name: string;
  kind: "aead" | "2022" | "none";
  aead: AeadName;
  keySize: number;
  saltSize: number;
  nonceSize: number;
}

function m(name: string, kind: "aead" | "2022", aead: AeadName): ShadowsocksMethod {
  const keySize = AEAD_KEY_SIZE[aead];
  return { name, kind, aead, keySize, saltSize: keySize, nonceSize: aead === "xchacha20-poly1305" ? 24 : 12 };
}

const METHODS: Record<string, ShadowsocksMethod> = {
  "aes-128-gcm": m("aes-128-gcm", "aead", "aes-128-gcm"),
  "aes-192-gcm": m("aes-192-gcm", "aead", "aes-192-gcm"),
  "aes-256-gcm": m("aes-256-gcm", "aead", "aes-256-gcm"),
  "chacha20-ietf-poly1305": m("chacha20-ietf-poly1305", "aead", "chacha20-poly1305"),
  "xchacha20-ietf-poly1305": m("xchacha20-ietf-poly1305", "aead", "xchacha20-poly1305"),
  "2022-blake3-aes-128-gcm": m("2022-blake3-aes-128-gcm", "2022", "aes-128-gcm"),
  "2022-blake3-aes-256-gcm": m("2022-blake3-aes-256-gcm", "2022", "aes-256-gcm"),
  "2022-blake3-chacha20-poly1305": m("2022-blake3-chacha20-poly1305", "2022", "chacha20-poly1305"),
};
const ALIASES: Record<string, string> = {
  "chacha20-poly1305": "chacha20-ietf-poly1305",
  "xchacha20-poly1305": "xchacha20-ietf-poly1305",
};

/** Names accepted in `method`. */
export const SHADOWSOCKS_METHODS: readonly string[] = [...Object.keys(METHODS), "none"];

/**
 * Looks up a method by name (v2ray's `chacha20-poly1305` alias included).
 *
 * @throws {ConfigError} If the method is unknown.
 */
export function lookupMethod(name: string, path = "method"): ShadowsocksMethod {
  const key = ALIASES[name] ?? name;
  if (key === "none" || key === "plain") {
    return { name: "none", kind: "none", aead: "aes-128-gcm", keySize: 0, saltSize: 0, nonceSize: 0 };
  }
  const method = METHODS[key];
  if (!method) throw new ConfigError(path, `unknown shadowsocks method "${name}"`);
  return method;
}

const enc = new TextEncoder();

/** OpenSSL's EVP_BytesToKey with MD5 and no salt, as every AEAD Shadowsocks implementation uses. */
export function evpBytesToKey(password: string, keySize: number): Uint8Array {
  const pw = enc.encode(password);
  const out = new Uint8Array(keySize);
  let prev = new Uint8Array(0);
  let o = 0;
  while (o < keySize) {
    const input = new Uint8Array(prev.length + pw.length);
    input.set(prev);
    input.set(pw, prev.length);
    prev = md5(input);
    out.set(prev.subarray(0, Math.min(16, keySize - o)), o);
    o += 16;
  }
  return out;
}

/**
 * Decodes a SIP022 pre-shared key (standard base64 of exactly `keySize` bytes).
 *
 * @throws {ConfigError} If it is not base64 of the right length.
 */
export function decodePsk(b64: string, keySize: number, path = "password"): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    throw new ConfigError(path, "2022 key is not valid base64");
  }
  if (raw.length !== keySize) {
    throw new ConfigError(path, `2022 key must be ${keySize} bytes, got ${raw.length}`);
  }
  return raw;
}

/** Derives the master key for `method` from the configured password. */
export function masterKey(method: ShadowsocksMethod, password: string, path = "password"): Uint8Array {
  if (method.kind === "2022") return decodePsk(password, method.keySize, path);
  if (method.kind === "none") return new Uint8Array(0);
  return evpBytesToKey(password, method.keySize);
}

const SS_SUBKEY = enc.encode("ss-subkey");

/** Session subkey for a salt. */
export function sessionKey(method: ShadowsocksMethod, key: Uint8Array, salt: Uint8Array): Uint8Array {
  if (method.kind === "2022") {
    return blake3KeyDerive("shadowsocks 2022 session subkey", concat(key, salt), method.keySize);
  }
  return hkdf(sha1, key, salt, SS_SUBKEY, method.keySize);
}

/** BLAKE3 in derive-key mode with output length `len`. */
export function blake3KeyDerive(context: string, material: Uint8Array, len: number): Uint8Array {
  return blake3(material, { context: enc.encode(context), dkLen: len });
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

/** Increments a little-endian counter nonce in place. */
export function incrementNonce(nonce: Uint8Array): void {
  for (let i = 0; i < nonce.length; i++) {
    nonce[i] = (nonce[i] + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}
