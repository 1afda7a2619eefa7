/**
 * Profile → JSON text in the two shapes the Go `bf` tool prints (paniq.md §14):
 * the full shape of `bf create-profile` (every field, `null` for unset booleans) and the
 * `omitempty` shape of `bf profile-cbor -decode`. Both follow `json.MarshalIndent(v, "", "  ")`,
 * including Go's HTML escaping of `<`, `>` and `&`.
 *
 * @module
 */
import { formatGoDuration } from "./duration.ts";
import type { ObfConfig, Profile } from "./profile.ts";

const BIGINT_MARK = "\u0000bigint:";

/** `JSON.stringify` with Go's indentation, HTML escaping and bigint support. */
export function goJsonIndent(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_k, v) => typeof v === "bigint" ? `${BIGINT_MARK}${v}` : v,
    2,
  );
  return text
    .replace(new RegExp(`"\\\\u0000bigint:(\\d+)"`, "g"), "$1")
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026");
}

function obfFull(o: ObfConfig): Record<string, unknown> {
  return {
    jc: o.jc,
    jmin: o.jmin,
    jmax: o.jmax,
    s1: o.s1,
    s2: o.s2,
    s3: o.s3,
    s4: o.s4,
    h1: o.h1,
    h2: o.h2,
    h3: o.h3,
    h4: o.h4,
    i1: o.i1,
    i2: o.i2,
    i3: o.i3,
    i4: o.i4,
    i5: o.i5,
    server_private_key: o.server_private_key,
    server_public_key: o.server_public_key,
    signature_validate: o.signature_validate ?? null,
    require_timestamp: o.require_timestamp ?? null,
    encrypted_timestamp: o.encrypted_timestamp ?? null,
    require_encrypted_timestamp: o.require_encrypted_timestamp ?? null,
    legacy_mode_enabled: o.legacy_mode_enabled ?? null,
    legacy_mode_sunset: o.legacy_mode_sunset,
    legacy_mode_max_days: o.legacy_mode_max_days,
    skew_soft_seconds: o.skew_soft_seconds,
    skew_hard_seconds: o.skew_hard_seconds,
    replay_window_seconds: o.replay_window_seconds,
    replay_cache_size: o.replay_cache_size,
    transport_replay: o.transport_replay,
    transport_replay_limit: o.transport_replay_limit,
    rate_limit_pps: o.rate_limit_pps,
    rate_limit_burst: o.rate_limit_burst,
  };
}

/** The `bf create-profile` shape: every field present. */
export function profileToFullJson(p: Profile): string {
  const tp = p.transport_padding;
  return goJsonIndent({
    name: p.name,
    proxy_addr: p.proxy_addr,
    handshake_timeout: formatGoDuration(p.handshake_timeout),
    handshake_attempts: p.handshake_attempts,
    preamble_delay_ms: p.preamble_delay_ms,
    preamble_jitter_ms: p.preamble_jitter_ms,
    quic: {
      max_packet_size: p.quic.max_packet_size,
      max_payload: p.quic.max_payload,
      keepalive: formatGoDuration(p.quic.keepalive),
      idle_timeout: formatGoDuration(p.quic.idle_timeout),
      max_streams: p.quic.max_streams,
    },
    obfuscation: obfFull(p.obfuscation),
    transport_padding: {
      pad_min: tp.pad_min ?? null,
      pad_max: tp.pad_max ?? null,
      pad_burst_min: tp.pad_burst_min ?? null,
      pad_burst_max: tp.pad_burst_max ?? null,
      pad_burst_prob: tp.pad_burst_prob ?? null,
    },
  });
}

function omitEmpty(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === "" || v === 0 || v === 0n || v === false) continue;
    out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The `bf profile-cbor -decode` shape: Go `omitempty` everywhere (booleans kept when set). */
export function profileToCompactJson(p: Profile): string {
  const o = p.obfuscation;
  const obfBase = obfFull(o);
  const bools: Record<string, unknown> = {};
  for (
    const k of [
      "signature_validate",
      "require_timestamp",
      "encrypted_timestamp",
      "require_encrypted_timestamp",
      "legacy_mode_enabled",
    ]
  ) {
    bools[k] = obfBase[k];
    delete obfBase[k];
  }
  let obf = omitEmpty(obfBase);
  // Pointer booleans survive omitempty whenever they are set, even to false.
  const setBools = Object.fromEntries(Object.entries(bools).filter(([, v]) => v !== null));
  if (Object.keys(setBools).length > 0) {
    const ordered: Record<string, unknown> = {};
    for (const k of Object.keys(obfFull(o))) {
      if (k in setBools) ordered[k] = setBools[k];
      else if (obf && k in obf) ordered[k] = obf[k];
    }
    obf = ordered;
  }
  const tp = p.transport_padding;
  const pad = Object.fromEntries(
    (["pad_min", "pad_max", "pad_burst_min", "pad_burst_max", "pad_burst_prob"] as const)
      .filter((k) => tp[k] !== undefined && tp[k] !== null)
      .map((k) => [k, tp[k]]),
  );
  const top = omitEmpty({
    name: p.name,
    proxy_addr: p.proxy_addr,
    handshake_timeout: p.handshake_timeout > 0 ? formatGoDuration(p.handshake_timeout) : "",
    handshake_attempts: p.handshake_attempts,
    preamble_delay_ms: p.preamble_delay_ms,
    preamble_jitter_ms: p.preamble_jitter_ms,
    quic: omitEmpty({
      max_packet_size: p.quic.max_packet_size,
      max_payload: p.quic.max_payload,
      keepalive: p.quic.keepalive > 0 ? formatGoDuration(p.quic.keepalive) : "",
      idle_timeout: p.quic.idle_timeout > 0 ? formatGoDuration(p.quic.idle_timeout) : "",
      max_streams: p.quic.max_streams,
    }),
    obfuscation: obf,
    transport_padding: Object.keys(pad).length > 0 ? pad : undefined,
  }) ?? {};
  return goJsonIndent(top);
}
