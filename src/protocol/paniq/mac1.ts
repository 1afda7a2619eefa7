/**
 * MAC1 (paniq.md §3.3): key = BLAKE2s-256("mac1----" ‖ server_pub); mac = keyed BLAKE2s with a
 * 16-byte digest over the whole framed initiation with its last 16 bytes zeroed.
 *
 * @module
 */
import { blake2s } from "@noble/hashes/blake2.js";
import { MAC1_SIZE } from "./constants.ts";

const LABEL = new TextEncoder().encode("mac1----");

/** Derives the MAC1 key from a 32-byte server public key. */
export function deriveMac1Key(serverPublicKey: Uint8Array): Uint8Array {
  const data = new Uint8Array(LABEL.length + serverPublicKey.length);
  data.set(LABEL);
  data.set(serverPublicKey, LABEL.length);
  return blake2s(data);
}

/** Keyed BLAKE2s-128 of `msg`. */
export function computeMac1(mac1Key: Uint8Array, msg: Uint8Array): Uint8Array {
  return blake2s(msg, { key: mac1Key, dkLen: MAC1_SIZE });
}

function macOverFrame(mac1Key: Uint8Array, frame: Uint8Array): Uint8Array {
  const shadow = frame.slice();
  shadow.fill(0, shadow.length - MAC1_SIZE);
  return computeMac1(mac1Key, shadow);
}

/** Writes MAC1 into the last 16 bytes of `frame` (in place). */
export function sealMac1(mac1Key: Uint8Array, frame: Uint8Array): void {
  frame.set(macOverFrame(mac1Key, frame), frame.length - MAC1_SIZE);
}

/**
 * Checks the trailing MAC1 of `frame` in constant time. `minOffset` is `S1 + 4`: the MAC may
 * not start inside the prefix.
 */
export function verifyMac1(mac1Key: Uint8Array, frame: Uint8Array, minOffset: number): boolean {
  const offset = frame.length - MAC1_SIZE;
  if (offset < minOffset) return false;
  const expected = macOverFrame(mac1Key, frame);
  let diff = 0;
  for (let i = 0; i < MAC1_SIZE; i++) diff |= expected[i] ^ frame[offset + i];
  return diff === 0;
}
