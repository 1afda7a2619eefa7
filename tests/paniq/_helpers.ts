import type { ObfParams } from "../../src/protocol/paniq/framer.ts";
import { emptyObfConfig } from "../../src/protocol/paniq/profile.ts";

/** An obfuscation block with every field zero/empty, overridden by `o`. */
export function obfParams(o: Partial<ObfParams> = {}): ObfParams {
  return { ...emptyObfConfig(), ...o };
}

/** The §4.7 example profile (docs/examples/profile.json of the Go reference). */
export const EXAMPLE_PROFILE = {
  name: "default",
  proxy_addr: "127.0.0.1:9000",
  handshake_timeout: "5s",
  handshake_attempts: 3,
  preamble_delay_ms: 5,
  preamble_jitter_ms: 5,
  quic: { max_packet_size: 1350, max_payload: 1200, keepalive: "20s", idle_timeout: "2m", max_streams: 256 },
  transport_padding: {
    pad_min: 16,
    pad_max: 96,
    pad_burst_min: 96,
    pad_burst_max: 104,
    pad_burst_prob: 0.02,
  },
  obfuscation: {
    jc: 4,
    jmin: 500,
    jmax: 1202,
    s1: 339,
    s2: 432,
    s3: 213,
    s4: 37,
    h1: "2367138250-2367139274",
    h2: "2676052954-2676053978",
    h3: "3741617189-3741618213",
    h4: "3845046654-3845047678",
    i1: "<t>",
    i2: "",
    i3: "",
    i4: "",
    i5: "",
    server_private_key: "HeiWa3ophccyGIw+3HIPJbPxSDP9kS+OY2L+ZdQdWcU=",
    server_public_key: "N2q78AwSzvTwmB9IAEdPTrHIzlyPBvwUQvWQu7eARzk=",
    signature_validate: true,
    require_timestamp: true,
    encrypted_timestamp: true,
    require_encrypted_timestamp: true,
    legacy_mode_enabled: false,
    skew_soft_seconds: 15,
    skew_hard_seconds: 30,
    replay_window_seconds: 30,
    replay_cache_size: 4096,
    transport_replay: false,
    transport_replay_limit: 0,
    rate_limit_pps: 200,
    rate_limit_burst: 500,
  },
};

/** A deep copy of the example profile with obfuscation fields overridden. */
export function exampleProfile(obf: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  const p = structuredClone(EXAMPLE_PROFILE) as Record<string, unknown> & {
    obfuscation: Record<string, unknown>;
  };
  Object.assign(p.obfuscation, obf);
  return Object.assign(p, top);
}
