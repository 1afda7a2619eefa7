/**
 * The paniq profile (paniq.md §4): the JSON shape shared by client and server, its Go-style
 * decoding (unknown fields ignored, `""`/`null` durations are 0), and the resolved settings
 * each side runs with (defaults, packet budget, keys, validation).
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import * as C from "./constants.ts";
import { formatGoDuration, parseGoDuration } from "./duration.ts";
import { Framer, type ObfParams } from "./framer.ts";
import { decodeKey, derivePublicKey } from "./keys.ts";
import { deriveMac1Key } from "./mac1.ts";
import { type PaddingPolicy, resolvePadding, type TransportPaddingConfig } from "./padding.ts";

/** The `quic` block; durations in milliseconds, 0 = unset. */
export interface QuicConfig {
  max_packet_size: number;
  max_payload: number;
  keepalive: number;
  idle_timeout: number;
  max_streams: number;
}

/** The `obfuscation` block (§4.3). Optional booleans keep Go's "unset" (nil) state. */
export interface ObfConfig extends ObfParams {
  server_private_key: string;
  server_public_key: string;
  signature_validate?: boolean;
  require_timestamp?: boolean;
  encrypted_timestamp?: boolean;
  require_encrypted_timestamp?: boolean;
  legacy_mode_enabled?: boolean;
  legacy_mode_sunset: string;
  legacy_mode_max_days: number;
  skew_soft_seconds: number;
  skew_hard_seconds: number;
  replay_window_seconds: number;
  replay_cache_size: number;
  transport_replay: boolean;
  transport_replay_limit: bigint;
  rate_limit_pps: number;
  rate_limit_burst: number;
}

/** A profile as Go's `profile.Profile` holds it; durations in milliseconds. */
export interface Profile {
  name: string;
  proxy_addr: string;
  handshake_timeout: number;
  handshake_attempts: number;
  preamble_delay_ms: number;
  preamble_jitter_ms: number;
  quic: QuicConfig;
  obfuscation: ObfConfig;
  transport_padding: TransportPaddingConfig;
}

const OBF_INTS = ["jc", "jmin", "jmax", "s1", "s2", "s3", "s4"] as const;
const OBF_STRS = ["h1", "h2", "h3", "h4", "i1", "i2", "i3", "i4", "i5"] as const;
const OBF_BOOLS = [
  "signature_validate",
  "require_timestamp",
  "encrypted_timestamp",
  "require_encrypted_timestamp",
  "legacy_mode_enabled",
] as const;

/** An empty obfuscation block (Go zero value). */
export function emptyObfConfig(): ObfConfig {
  return {
    jc: 0,
    jmin: 0,
    jmax: 0,
    s1: 0,
    s2: 0,
    s3: 0,
    s4: 0,
    h1: "",
    h2: "",
    h3: "",
    h4: "",
    i1: "",
    i2: "",
    i3: "",
    i4: "",
    i5: "",
    server_private_key: "",
    server_public_key: "",
    legacy_mode_sunset: "",
    legacy_mode_max_days: 0,
    skew_soft_seconds: 0,
    skew_hard_seconds: 0,
    replay_window_seconds: 0,
    replay_cache_size: 0,
    transport_replay: false,
    transport_replay_limit: 0n,
    rate_limit_pps: 0,
    rate_limit_burst: 0,
  };
}

/** An empty profile (Go zero value). */
export function emptyProfile(): Profile {
  return {
    name: "",
    proxy_addr: "",
    handshake_timeout: 0,
    handshake_attempts: 0,
    preamble_delay_ms: 0,
    preamble_jitter_ms: 0,
    quic: { max_packet_size: 0, max_payload: 0, keepalive: 0, idle_timeout: 0, max_streams: 0 },
    obfuscation: emptyObfConfig(),
    transport_padding: {},
  };
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function int(o: Obj, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ConfigError(`${path}${key}`, "expected integer");
  }
  return v;
}

function str(o: Obj, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ConfigError(`${path}${key}`, "expected string");
  return v;
}

function bool(o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new ConfigError(`${path}${key}`, "expected boolean");
  return v;
}

/**
 * Reads a Go duration field (string, `""`/`null` = 0) in milliseconds.
 *
 * @throws {ConfigError} If it is not a string or not a Go duration
 */
export function durationField(o: Obj, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ConfigError(`${path}${key}`, "duration must be a string");
  if (v === "") return 0;
  try {
    return parseGoDuration(v);
  } catch (e) {
    throw new ConfigError(`${path}${key}`, `invalid duration "${v}": ${(e as Error).message}`);
  }
}

function obj(o: Obj, key: string, path: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ConfigError(`${path}${key}`, "expected object");
  return v;
}

/**
 * Decodes a profile from parsed JSON with Go `encoding/json` semantics.
 *
 * @throws {ConfigError} Naming the JSON path of a field with the wrong type
 */
export function parseProfile(json: unknown): Profile {
  if (!isObj(json)) throw new ConfigError("", "profile must be a JSON object");
  const p = emptyProfile();
  p.name = str(json, "name", "") ?? "";
  p.proxy_addr = str(json, "proxy_addr", "") ?? "";
  p.handshake_timeout = durationField(json, "handshake_timeout", "") ?? 0;
  p.handshake_attempts = int(json, "handshake_attempts", "") ?? 0;
  p.preamble_delay_ms = int(json, "preamble_delay_ms", "") ?? 0;
  p.preamble_jitter_ms = int(json, "preamble_jitter_ms", "") ?? 0;
  const q = obj(json, "quic", "");
  if (q) {
    p.quic.max_packet_size = int(q, "max_packet_size", "quic.") ?? 0;
    p.quic.max_payload = int(q, "max_payload", "quic.") ?? 0;
    p.quic.keepalive = durationField(q, "keepalive", "quic.") ?? 0;
    p.quic.idle_timeout = durationField(q, "idle_timeout", "quic.") ?? 0;
    p.quic.max_streams = int(q, "max_streams", "quic.") ?? 0;
  }
  const o = obj(json, "obfuscation", "");
  if (o) {
    const b = p.obfuscation;
    for (const k of OBF_INTS) b[k] = int(o, k, "obfuscation.") ?? 0;
    for (const k of OBF_STRS) b[k] = str(o, k, "obfuscation.") ?? "";
    for (const k of OBF_BOOLS) {
      const v = bool(o, k, "obfuscation.");
      if (v !== undefined) b[k] = v;
    }
    b.server_private_key = str(o, "server_private_key", "obfuscation.") ?? "";
    b.server_public_key = str(o, "server_public_key", "obfuscation.") ?? "";
    b.legacy_mode_sunset = str(o, "legacy_mode_sunset", "obfuscation.") ?? "";
    b.legacy_mode_max_days = int(o, "legacy_mode_max_days", "obfuscation.") ?? 0;
    b.skew_soft_seconds = int(o, "skew_soft_seconds", "obfuscation.") ?? 0;
    b.skew_hard_seconds = int(o, "skew_hard_seconds", "obfuscation.") ?? 0;
    b.replay_window_seconds = int(o, "replay_window_seconds", "obfuscation.") ?? 0;
    b.replay_cache_size = int(o, "replay_cache_size", "obfuscation.") ?? 0;
    b.transport_replay = bool(o, "transport_replay", "obfuscation.") ?? false;
    const limit = int(o, "transport_replay_limit", "obfuscation.") ?? 0;
    if (limit < 0) throw new ConfigError("obfuscation.transport_replay_limit", "expected uint64");
    b.transport_replay_limit = BigInt(limit);
    b.rate_limit_pps = int(o, "rate_limit_pps", "obfuscation.") ?? 0;
    b.rate_limit_burst = int(o, "rate_limit_burst", "obfuscation.") ?? 0;
  }
  const tp = obj(json, "transport_padding", "");
  if (tp) {
    for (const k of ["pad_min", "pad_max", "pad_burst_min", "pad_burst_max"] as const) {
      const v = int(tp, k, "transport_padding.");
      if (v !== undefined) p.transport_padding[k] = v;
    }
    const prob = tp.pad_burst_prob;
    if (prob !== undefined && prob !== null) {
      if (typeof prob !== "number") {
        throw new ConfigError("transport_padding.pad_burst_prob", "expected number");
      }
      p.transport_padding.pad_burst_prob = prob;
    }
  }
  return p;
}

/** True if the obfuscation block differs from its zero value (Go `ObfConfig.Enabled`). */
export function obfuscationEnabled(o: ObfConfig): boolean {
  const z = emptyObfConfig() as unknown as Obj;
  const x = o as unknown as Obj;
  for (const k of Object.keys(x)) if (x[k] !== z[k]) return true;
  return false;
}

/** Settings common to both sides, with Go's defaults applied and the packet budget checked. */
export interface ResolvedCommon {
  profile: Profile;
  framer: Framer;
  padding: PaddingPolicy;
  maxPacketSize: number;
  transportReplay: boolean;
  replayLimit: bigint;
  /** `max_packet_size − (S4 + 4 + 2 [+ 8])`: the largest QUIC packet that fits. */
  budget: number;
  /** The fixed QUIC packet size: `min(budget, max_payload if set)`, at most 1452. */
  quicPacketSize: number;
  /** `budget − quicPacketSize`: room for transport padding. */
  headroom: number;
  handshakeTimeoutMs: number;
  handshakeAttempts: number;
  preambleDelayMs: number;
  preambleJitterMs: number;
  keepAliveMs: number;
  idleTimeoutMs: number;
  maxStreams: number;
  /** Non-fatal findings to log (padding above headroom). */
  warnings: string[];
}

/**
 * Applies defaults and validates what both daemons validate (§4, Go `normalizeConfig`).
 *
 * @throws {ConfigError} On any invalid value
 */
export function resolveCommon(p: Profile): ResolvedCommon {
  if (!obfuscationEnabled(p.obfuscation)) throw new ConfigError("obfuscation", "obfuscation required");
  let framer: Framer;
  try {
    framer = new Framer(p.obfuscation);
  } catch (e) {
    throw new ConfigError("obfuscation", (e as Error).message);
  }
  let padding: PaddingPolicy;
  try {
    padding = resolvePadding(p.transport_padding);
  } catch (e) {
    throw new ConfigError("transport_padding", (e as Error).message);
  }
  const maxPacketSize = p.quic.max_packet_size > 0 ? p.quic.max_packet_size : C.DEFAULT_MAX_PACKET_SIZE;
  const replay = p.obfuscation.transport_replay;
  const overhead = p.obfuscation.s4 + C.HEADER_SIZE + C.INNER_LEN_SIZE + (replay ? C.COUNTER_SIZE : 0);
  const budget = maxPacketSize - overhead;
  if (budget < C.MIN_QUIC_PAYLOAD) {
    throw new ConfigError("quic.max_packet_size", `too small for QUIC payload budget (${budget} < 1200)`);
  }
  const mp = p.quic.max_payload;
  if (mp > 0) {
    if (mp < C.MIN_QUIC_PAYLOAD) throw new ConfigError("quic.max_payload", "must be >= 1200");
    if (mp > budget) {
      throw new ConfigError("quic.max_payload", `exceeds transport payload budget (${budget})`);
    }
    if (mp > C.MAX_QUIC_PAYLOAD) throw new ConfigError("quic.max_payload", "must be <= 1452");
  }
  const effective = mp > 0 && mp < budget ? mp : budget;
  const headroom = budget - effective;
  if (padding.min > headroom) {
    throw new ConfigError(
      "transport_padding.pad_min",
      `exceeds headroom (${padding.min} > ${headroom}); reduce pad_min or increase headroom`,
    );
  }
  const warnings: string[] = [];
  if (padding.max > headroom) {
    warnings.push(`transport padding pad_max ${padding.max} exceeds headroom ${headroom}`);
  }
  if (padding.burstMax > headroom) {
    warnings.push(`transport padding pad_burst_max ${padding.burstMax} exceeds headroom ${headroom}`);
  }
  const limit = p.obfuscation.transport_replay_limit;
  return {
    profile: p,
    framer,
    padding,
    maxPacketSize,
    transportReplay: replay,
    replayLimit: limit === 0n ? C.REJECT_AFTER_MESSAGES : limit,
    budget,
    quicPacketSize: Math.min(effective, C.MAX_QUIC_PAYLOAD),
    headroom,
    handshakeTimeoutMs: p.handshake_timeout > 0 ? p.handshake_timeout : C.DEFAULT_HANDSHAKE_TIMEOUT_MS,
    handshakeAttempts: p.handshake_attempts > 0 ? p.handshake_attempts : C.DEFAULT_HANDSHAKE_ATTEMPTS,
    preambleDelayMs: Math.max(0, p.preamble_delay_ms),
    preambleJitterMs: Math.max(0, p.preamble_jitter_ms),
    keepAliveMs: p.quic.keepalive > 0 ? p.quic.keepalive : C.DEFAULT_KEEPALIVE_MS,
    idleTimeoutMs: p.quic.idle_timeout > 0 ? p.quic.idle_timeout : C.DEFAULT_IDLE_TIMEOUT_MS,
    maxStreams: p.quic.max_streams > 0 ? p.quic.max_streams : C.DEFAULT_MAX_STREAMS,
    warnings,
  };
}

/** Client-side settings. */
export interface ResolvedClient extends ResolvedCommon {
  proxyAddr: string;
  serverPublicKey?: Uint8Array;
  mac1Key?: Uint8Array;
  /** Send the encrypted timestamp (needs the public key). */
  encryptedTimestamp: boolean;
}

/**
 * Resolves a profile for the client (needs `proxy_addr`).
 *
 * @throws {ConfigError} On any invalid value
 */
export function resolveClient(p: Profile): ResolvedClient {
  if (p.proxy_addr === "") throw new ConfigError("proxy_addr", "proxy address required");
  const common = resolveCommon(p);
  let serverPublicKey: Uint8Array | undefined;
  if (p.obfuscation.server_public_key !== "") {
    try {
      serverPublicKey = decodeKey(p.obfuscation.server_public_key);
    } catch (e) {
      throw new ConfigError("obfuscation.server_public_key", (e as Error).message);
    }
  }
  return {
    ...common,
    proxyAddr: p.proxy_addr,
    serverPublicKey,
    mac1Key: serverPublicKey ? deriveMac1Key(serverPublicKey) : undefined,
    encryptedTimestamp: serverPublicKey !== undefined && p.obfuscation.encrypted_timestamp !== false,
  };
}

/** Server-side settings (§5.1, §7). */
export interface ResolvedServer extends ResolvedCommon {
  privateKey?: Uint8Array;
  publicKey?: Uint8Array;
  mac1Key?: Uint8Array;
  signatureValidate: boolean;
  requireTimestamp: boolean;
  encryptedTimestamp: boolean;
  requireEncryptedTimestamp: boolean;
  legacyModeEnabled: boolean;
  /** Epoch milliseconds after which legacy mode is refused; undefined when legacy is off. */
  legacySunsetMs?: number;
  skewSoftS: number;
  skewHardS: number;
  replayWindowS: number;
  replayCacheSize: number;
  rateLimitPps: number;
  rateLimitBurst: number;
}

/**
 * Parses `legacy_mode_sunset`: `YYYY-MM-DD` (UTC midnight) or RFC 3339.
 *
 * @throws {ConfigError} If it is neither
 */
export function parseSunset(text: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const t = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(t)) return t;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const t = Date.parse(text);
    if (!Number.isNaN(t)) return t;
  }
  throw new ConfigError("obfuscation.legacy_mode_sunset", `invalid legacy_mode_sunset "${text}"`);
}

/**
 * Resolves a profile for the server. `privateKeyOverride` is the key from
 * `BF_SERVER_PRIVATE_KEY` or `--server-private-key-file`, used only if the profile has none.
 * `nowMs` decides whether a legacy sunset has passed.
 *
 * @throws {ConfigError} On any invalid value
 */
export function resolveServer(p: Profile, privateKeyOverride = "", nowMs = Date.now()): ResolvedServer {
  const common = resolveCommon(p);
  const o = p.obfuscation;
  const keyText = o.server_private_key !== "" ? o.server_private_key : privateKeyOverride;
  let privateKey: Uint8Array | undefined;
  let publicKey: Uint8Array | undefined;
  if (keyText !== "") {
    try {
      privateKey = decodeKey(keyText);
    } catch (e) {
      throw new ConfigError(
        "obfuscation.server_private_key",
        `server private key invalid: ${(e as Error).message}`,
      );
    }
    publicKey = derivePublicKey(privateKey);
  }
  const signatureValidate = o.signature_validate ?? true;
  const requireTimestamp = o.require_timestamp ?? true;
  let encryptedTimestamp = o.encrypted_timestamp ?? privateKey !== undefined;
  const requireEncryptedTimestamp = o.require_encrypted_timestamp ?? false;
  const legacyModeEnabled = o.legacy_mode_enabled ?? false;
  if (requireEncryptedTimestamp) {
    if (!privateKey) {
      throw new ConfigError(
        "obfuscation.require_encrypted_timestamp",
        "require_encrypted_timestamp needs server private key",
      );
    }
    encryptedTimestamp = true;
  }
  const specs = [o.i1, o.i2, o.i3, o.i4, o.i5];
  if (requireTimestamp && !requireEncryptedTimestamp && !specs.some((s) => s.includes("<t"))) {
    throw new ConfigError("obfuscation.require_timestamp", "require_timestamp needs <t> in signature chain");
  }
  if (requireTimestamp && !signatureValidate) {
    throw new ConfigError(
      "obfuscation.signature_validate",
      "signature validation required when timestamps are enforced",
    );
  }
  let legacySunsetMs = o.legacy_mode_sunset !== "" ? parseSunset(o.legacy_mode_sunset) : undefined;
  if (legacyModeEnabled) {
    if (o.legacy_mode_max_days > 0 && legacySunsetMs === undefined) {
      legacySunsetMs = nowMs + o.legacy_mode_max_days * 86400_000;
    }
    if (legacySunsetMs === undefined) {
      throw new ConfigError("obfuscation.legacy_mode_sunset", "legacy mode requires sunset");
    }
    if (nowMs > legacySunsetMs) {
      throw new ConfigError("obfuscation.legacy_mode_sunset", "legacy mode sunset reached");
    }
  }
  return {
    ...common,
    privateKey,
    publicKey,
    mac1Key: publicKey ? deriveMac1Key(publicKey) : undefined,
    signatureValidate,
    requireTimestamp,
    encryptedTimestamp,
    requireEncryptedTimestamp,
    legacyModeEnabled,
    legacySunsetMs,
    skewSoftS: o.skew_soft_seconds > 0 ? o.skew_soft_seconds : C.DEFAULT_SKEW_SOFT_S,
    skewHardS: o.skew_hard_seconds > 0 ? o.skew_hard_seconds : C.DEFAULT_SKEW_HARD_S,
    replayWindowS: o.replay_window_seconds > 0 ? o.replay_window_seconds : C.DEFAULT_REPLAY_WINDOW_S,
    replayCacheSize: o.replay_cache_size > 0 ? o.replay_cache_size : C.DEFAULT_REPLAY_CACHE_SIZE,
    rateLimitPps: Math.max(0, o.rate_limit_pps),
    rateLimitBurst: o.rate_limit_burst,
  };
}

/** The startup "transport config" log fields (§9). */
export function transportConfigLine(r: ResolvedCommon): string {
  const f: Record<string, unknown> = {
    max_packet: r.maxPacketSize,
    max_payload: r.profile.quic.max_payload,
    effective_payload: r.quicPacketSize,
    budget: r.budget,
    overhead: r.maxPacketSize - r.budget,
    s4: r.profile.obfuscation.s4,
    replay: r.transportReplay,
    pad_min: r.padding.min,
    pad_max: r.padding.max,
    burst_min: r.padding.burstMin,
    burst_max: r.padding.burstMax,
    burst_prob: r.padding.burstProb,
    headroom: r.headroom,
    mtu_ipv6_risk: r.maxPacketSize > 1232,
  };
  return "transport config " + Object.entries(f).map(([k, v]) => `${k}=${v}`).join(" ");
}

/** Formats a millisecond duration the Go way (re-exported for profile printers). */
export { formatGoDuration };
