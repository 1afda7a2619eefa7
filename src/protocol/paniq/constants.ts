/**
 * paniq wire constants (spec paniq.md §3, §8). Specification constants first, then the
 * implementation defaults of the Go reference.
 *
 * @module
 */

/** Framed message types (§3.1). */
export const MessageType = {
  Initiation: 1,
  Response: 2,
  CookieReply: 3,
  Transport: 4,
} as const;
/** One of the four framed message types. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** Size of the little-endian type header. */
export const HEADER_SIZE = 4;
/** MAC1 trailer size (BLAKE2s-128). */
export const MAC1_SIZE = 16;
/** Encrypted timestamp block: version + X25519 pub + XChaCha nonce + AEAD(12-byte TAI64N). */
export const ENC_TS_VERSION = 1;
export const ENC_TS_SIZE = 1 + 32 + 24 + 12 + 16;
/** Transport counter size when `transport_replay` is on. */
export const COUNTER_SIZE = 8;
/** Transport inner length prefix. */
export const INNER_LEN_SIZE = 2;
/** ALPN on both ends (§3.7). */
export const ALPN = "bridgefall-paniq";
/** Minimum QUIC payload (RFC 9000 §14) and the largest fixed packet size quic-go uses. */
export const MIN_QUIC_PAYLOAD = 1200;
export const MAX_QUIC_PAYLOAD = 1452;

/** Go defaults (§8). */
export const DEFAULT_MAX_PACKET_SIZE = 1350;
export const FALLBACK_MAX_PACKET_SIZE = 1200;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_HANDSHAKE_ATTEMPTS = 3;
export const DEFAULT_KEEPALIVE_MS = 20_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_STREAMS = 256;
export const DEFAULT_SKEW_SOFT_S = 15;
export const DEFAULT_SKEW_HARD_S = 30;
export const DEFAULT_REPLAY_WINDOW_S = 30;
export const DEFAULT_REPLAY_CACHE_SIZE = 4096;
export const DEFAULT_RATE_LIMIT_PPS = 20;
export const DEFAULT_RATE_LIMIT_BURST = 5;
/** 2^64 − 2^13 − 1: counters at or above this are rejected (WireGuard RejectAfterMessages). */
export const REJECT_AFTER_MESSAGES = (1n << 64n) - (1n << 13n) - 1n;
