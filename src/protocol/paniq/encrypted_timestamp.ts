/**
 * The encrypted initiation timestamp (paniq.md §3.3):
 * `0x01 ‖ eph_pub(32) ‖ nonce(24) ‖ XChaCha20-Poly1305(key, TAI64N)` where
 * key = BLAKE2s-256("ts-encrypt" ‖ X25519(eph_priv, server_pub)) and the AAD is empty.
 *
 * @module
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { blake2s } from "@noble/hashes/blake2.js";
import { ENC_TS_SIZE, ENC_TS_VERSION } from "./constants.ts";
import { randomBytes } from "./random.ts";
import { TAI64N_SIZE } from "./tai64n.ts";

const LABEL = new TextEncoder().encode("ts-encrypt");
const HEADER = 1 + 32 + 24;

/** Derives the AEAD key from an X25519 shared secret. */
export function deriveTimestampKey(shared: Uint8Array): Uint8Array {
  const data = new Uint8Array(LABEL.length + shared.length);
  data.set(LABEL);
  data.set(shared, LABEL.length);
  return blake2s(data);
}

/** Inputs that are random in production and fixed in known-answer tests. */
export interface EncryptedTimestampOptions {
  ephemeralPrivateKey?: Uint8Array;
  nonce?: Uint8Array;
}

/** Builds the 85-byte block for `stamp` (a 12-byte TAI64N). */
export function buildEncryptedTimestamp(
  serverPublicKey: Uint8Array,
  stamp: Uint8Array,
  options: EncryptedTimestampOptions = {},
): Uint8Array {
  const priv = options.ephemeralPrivateKey ?? randomBytes(32);
  const nonce = options.nonce ?? randomBytes(24);
  const pub = x25519.getPublicKey(priv);
  const key = deriveTimestampKey(x25519.getSharedSecret(priv, serverPublicKey));
  const sealed = xchacha20poly1305(key, nonce).encrypt(stamp);
  const out = new Uint8Array(ENC_TS_SIZE);
  out[0] = ENC_TS_VERSION;
  out.set(pub, 1);
  out.set(nonce, 33);
  out.set(sealed, HEADER);
  return out;
}

/** Result of parsing an initiation payload for an encrypted timestamp. */
export type EncryptedTimestampResult =
  | { kind: "absent" }
  | { kind: "invalid" }
  | { kind: "valid"; stamp: Uint8Array };

/**
 * Parses the start of an initiation payload (without its MAC1). Shorter than 85 bytes or a
 * version byte other than 1 is "absent", not an error; a failed decryption is "invalid".
 */
export function parseEncryptedTimestamp(
  payload: Uint8Array,
  serverPrivateKey: Uint8Array,
): EncryptedTimestampResult {
  if (payload.length < ENC_TS_SIZE || payload[0] !== ENC_TS_VERSION) return { kind: "absent" };
  try {
    const shared = x25519.getSharedSecret(serverPrivateKey, payload.subarray(1, 33));
    const key = deriveTimestampKey(shared);
    const plain = xchacha20poly1305(key, payload.subarray(33, HEADER)).decrypt(payload.subarray(HEADER));
    if (plain.length !== TAI64N_SIZE) return { kind: "invalid" };
    return { kind: "valid", stamp: plain };
  } catch {
    return { kind: "invalid" };
  }
}
