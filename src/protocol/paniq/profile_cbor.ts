/**
 * The compact CBOR profile / "client connection string" (paniq.md §4.6): integer map keys,
 * canonical encoding, version 1, defaults omitted. Optionally wrapped in std base64.
 *
 * Go quirk kept on purpose for wire compatibility: a padding value equal to the *default*
 * policy's value (0/64/128/256/0.02) is omitted, so a non-default block with
 * `pad_burst_prob: 0.02` decodes with bursts disabled (§12.8).
 *
 * @module
 */
import { decode as cborDecode, encode as cborEncode } from "cborg";
import { ConfigError } from "../../common/errors.ts";
import { decodeBase64, encodeBase64 } from "./keys.ts";
import { DEFAULT_PADDING } from "./padding.ts";
import { emptyProfile, type ObfConfig, type Profile } from "./profile.ts";

/** The only CBOR profile version. */
export const CBOR_PROFILE_VERSION = 1;

const OBF_KEYS: [keyof ObfConfig, number, "int" | "str" | "bytes" | "bool" | "u64"][] = [
  ["jc", 1, "int"],
  ["jmin", 2, "int"],
  ["jmax", 3, "int"],
  ["s1", 4, "int"],
  ["s2", 5, "int"],
  ["s3", 6, "int"],
  ["s4", 7, "int"],
  ["h1", 8, "str"],
  ["h2", 9, "str"],
  ["h3", 10, "str"],
  ["h4", 11, "str"],
  ["i1", 12, "str"],
  ["i2", 13, "str"],
  ["i3", 14, "str"],
  ["i4", 15, "str"],
  ["i5", 16, "str"],
  ["server_private_key", 17, "bytes"],
  ["server_public_key", 18, "bytes"],
  ["signature_validate", 19, "bool"],
  ["require_timestamp", 20, "bool"],
  ["encrypted_timestamp", 21, "bool"],
  ["require_encrypted_timestamp", 22, "bool"],
  ["legacy_mode_enabled", 23, "bool"],
  ["legacy_mode_sunset", 24, "str"],
  ["legacy_mode_max_days", 25, "int"],
  ["skew_soft_seconds", 26, "int"],
  ["skew_hard_seconds", 27, "int"],
  ["replay_window_seconds", 28, "int"],
  ["replay_cache_size", 29, "int"],
  ["transport_replay", 30, "bool"],
  ["transport_replay_limit", 31, "u64"],
  ["rate_limit_pps", 32, "int"],
  ["rate_limit_burst", 33, "int"],
];

const PAD_KEYS = [
  ["pad_min", 1, DEFAULT_PADDING.min],
  ["pad_max", 2, DEFAULT_PADDING.max],
  ["pad_burst_min", 3, DEFAULT_PADDING.burstMin],
  ["pad_burst_max", 4, DEFAULT_PADDING.burstMax],
  ["pad_burst_prob", 5, DEFAULT_PADDING.burstProb],
] as const;

function uint(n: number, path: string): number {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(path, `cannot encode ${n} as an unsigned integer`);
  return n;
}

/**
 * Encodes a profile to canonical CBOR.
 *
 * @throws {ConfigError} If `proxy_addr` is empty or a key is not base64
 */
export function encodeProfileCbor(p: Profile): Uint8Array {
  if (p.proxy_addr === "") throw new ConfigError("proxy_addr", "proxy_addr required");
  const top = new Map<number, unknown>();
  top.set(0, CBOR_PROFILE_VERSION);
  if (p.name !== "") top.set(1, p.name);
  top.set(2, p.proxy_addr);
  if (p.handshake_timeout > 0 && p.handshake_timeout !== 5000) top.set(3, Math.floor(p.handshake_timeout));
  if (p.handshake_attempts > 0 && p.handshake_attempts !== 3) top.set(4, p.handshake_attempts);
  if (p.preamble_delay_ms > 0) top.set(5, p.preamble_delay_ms);
  if (p.preamble_jitter_ms > 0) top.set(6, p.preamble_jitter_ms);
  const q = new Map<number, unknown>();
  if (p.quic.max_packet_size > 0 && p.quic.max_packet_size !== 1350) q.set(1, p.quic.max_packet_size);
  if (p.quic.max_payload > 0) q.set(2, p.quic.max_payload);
  if (p.quic.keepalive > 0 && p.quic.keepalive !== 20_000) q.set(3, Math.floor(p.quic.keepalive));
  if (p.quic.idle_timeout > 0 && p.quic.idle_timeout !== 120_000) q.set(4, Math.floor(p.quic.idle_timeout));
  if (p.quic.max_streams > 0 && p.quic.max_streams !== 256) q.set(5, p.quic.max_streams);
  if (q.size > 0) top.set(7, q);
  const o = new Map<number, unknown>();
  for (const [name, key, kind] of OBF_KEYS) {
    const v = p.obfuscation[name];
    const path = `obfuscation.${name}`;
    switch (kind) {
      case "int":
        if (v !== 0) o.set(key, uint(v as number, path));
        break;
      case "str":
        if (v !== "") o.set(key, v);
        break;
      case "bytes":
        if (v !== "") {
          try {
            o.set(key, decodeBase64(v as string));
          } catch (e) {
            throw new ConfigError(path, (e as Error).message);
          }
        }
        break;
      case "bool":
        // transport_replay is a plain bool in Go (written only when true); the rest are pointers.
        if (name === "transport_replay" ? v === true : v !== undefined) o.set(key, v);
        break;
      case "u64":
        if (v !== 0n) o.set(key, v as bigint);
        break;
    }
  }
  if (o.size > 0) top.set(8, o);
  const pad = new Map<number, unknown>();
  for (const [name, key, def] of PAD_KEYS) {
    const v = p.transport_padding[name];
    if (v === undefined || v === null || v === def) continue;
    pad.set(key, name === "pad_burst_prob" ? v : uint(v, `transport_padding.${name}`));
  }
  if (pad.size > 0) top.set(9, pad);
  // cborg's defaults are canonical: sorted keys (length first, then bytes) and shortest floats,
  // as fxamacker's CanonicalEncOptions.
  return cborEncode(top);
}

function asMap(v: unknown, path: string): Map<number, unknown> {
  if (!(v instanceof Map)) throw new ConfigError(path, "expected map");
  for (const k of v.keys()) {
    if (typeof k !== "number") throw new ConfigError(path, "expected unsigned integer keys");
  }
  return v as Map<number, unknown>;
}

function asUint(v: unknown, path: string): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "bigint" && v >= 0n) return Number(v);
  throw new ConfigError(path, "expected unsigned integer");
}

function asString(v: unknown, path: string): string {
  if (typeof v !== "string") throw new ConfigError(path, "expected string");
  return v;
}

/**
 * Decodes canonical (or any well-formed) CBOR into a profile.
 *
 * @throws {ConfigError} On malformed CBOR, a version other than 1, or a field of the wrong type
 */
export function decodeProfileCbor(data: Uint8Array): Profile {
  let raw: unknown;
  try {
    raw = cborDecode(data, { useMaps: true });
  } catch (e) {
    throw new ConfigError("", `invalid CBOR: ${(e as Error).message}`);
  }
  const top = asMap(raw, "");
  if (!top.has(0)) throw new ConfigError("", "cbor profile missing version");
  const version = asUint(top.get(0), "version");
  if (version !== CBOR_PROFILE_VERSION) {
    throw new ConfigError("version", `unsupported cbor profile version ${version}`);
  }
  const p = emptyProfile();
  if (top.has(1)) p.name = asString(top.get(1), "name");
  if (top.has(2)) p.proxy_addr = asString(top.get(2), "proxy_addr");
  if (top.has(3)) p.handshake_timeout = asUint(top.get(3), "handshake_timeout");
  if (top.has(4)) p.handshake_attempts = asUint(top.get(4), "handshake_attempts");
  if (top.has(5)) p.preamble_delay_ms = asUint(top.get(5), "preamble_delay_ms");
  if (top.has(6)) p.preamble_jitter_ms = asUint(top.get(6), "preamble_jitter_ms");
  if (top.has(7)) {
    const q = asMap(top.get(7), "quic");
    const names = ["", "max_packet_size", "max_payload", "keepalive", "idle_timeout", "max_streams"] as const;
    for (let k = 1; k <= 5; k++) {
      if (q.has(k)) {
        (p.quic as unknown as Record<string, number>)[names[k]] = asUint(q.get(k), `quic.${names[k]}`);
      }
    }
  }
  if (top.has(8)) {
    const o = asMap(top.get(8), "obfuscation");
    const out = p.obfuscation as unknown as Record<string, unknown>;
    for (const [name, key, kind] of OBF_KEYS) {
      if (!o.has(key)) continue;
      const v = o.get(key);
      const path = `obfuscation.${name}`;
      switch (kind) {
        case "int":
          out[name] = asUint(v, path);
          break;
        case "str":
          out[name] = asString(v, path);
          break;
        case "bytes":
          if (!(v instanceof Uint8Array)) throw new ConfigError(path, "expected bytes");
          out[name] = encodeBase64(v);
          break;
        case "bool":
          if (typeof v !== "boolean") throw new ConfigError(path, "expected bool");
          out[name] = v;
          break;
        case "u64":
          if (typeof v === "bigint" && v >= 0n) out[name] = v;
          else out[name] = BigInt(asUint(v, path));
          break;
      }
    }
  }
  if (top.has(9)) {
    const pad = asMap(top.get(9), "transport_padding");
    for (const [name, key] of PAD_KEYS) {
      if (!pad.has(key)) continue;
      const v = pad.get(key);
      if (name === "pad_burst_prob") {
        if (typeof v !== "number") {
          throw new ConfigError("transport_padding.pad_burst_prob", "expected float");
        }
        p.transport_padding.pad_burst_prob = v;
      } else {
        p.transport_padding[name] = asUint(v, `transport_padding.${name}`);
      }
    }
  }
  return p;
}

/** Encodes to the std-base64 connection string. */
export function encodeConnectionString(p: Profile): string {
  return encodeBase64(encodeProfileCbor(p));
}

/**
 * Decodes a connection string (whitespace ignored).
 *
 * @throws {ConfigError} On bad base64 or CBOR
 */
export function decodeConnectionString(text: string): Profile {
  const clean = text.replace(/[\s]/g, "");
  if (clean === "") throw new ConfigError("", "empty base64 input");
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(clean);
  } catch (e) {
    throw new ConfigError("", (e as Error).message);
  }
  return decodeProfileCbor(bytes);
}
