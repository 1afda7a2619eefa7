/**
 * paniq metrics (paniq.md §9): daemon counters, envelope counters and handshake-latency
 * quantiles, printed as the Go daemons' periodic `proxy metrics` line.
 *
 * @module
 */
import { formatGoDuration } from "./duration.ts";

/** Envelope counters, named as in the Go log line (plus the ones Go counts but never logs). */
export interface EnvelopeCounters {
  junk: number;
  sig_mismatch: number;
  sig_invalid: number;
  ts_invalid: number;
  replay_reject: number;
  replay_evict: number;
  mac1_invalid: number;
  legacy_missing: number;
  rate_limit: number;
  transport_replay: number;
  bad_init: number;
  decode_fail: number;
  pad_in: number;
  pad_out: number;
  pad_clamp: number;
  pad_drop: number;
  // Counted but not part of the log line (Go has them too).
  signatures: number;
  size_violation: number;
  unexpected: number;
  udp_bytes_in: number;
  udp_bytes_out: number;
  payload_bytes_in: number;
  payload_bytes_out: number;
}

/** Counter names on the log line, in Go's order. */
export const ENVELOPE_LOG_FIELDS = [
  "junk",
  "sig_mismatch",
  "sig_invalid",
  "ts_invalid",
  "replay_reject",
  "replay_evict",
  "mac1_invalid",
  "legacy_missing",
  "rate_limit",
  "transport_replay",
  "bad_init",
  "decode_fail",
  "pad_in",
  "pad_out",
  "pad_clamp",
  "pad_drop",
] as const;

/** Fresh zeroed envelope counters. */
export function newEnvelopeCounters(): EnvelopeCounters {
  return {
    junk: 0,
    sig_mismatch: 0,
    sig_invalid: 0,
    ts_invalid: 0,
    replay_reject: 0,
    replay_evict: 0,
    mac1_invalid: 0,
    legacy_missing: 0,
    rate_limit: 0,
    transport_replay: 0,
    bad_init: 0,
    decode_fail: 0,
    pad_in: 0,
    pad_out: 0,
    pad_clamp: 0,
    pad_drop: 0,
    signatures: 0,
    size_violation: 0,
    unexpected: 0,
    udp_bytes_in: 0,
    udp_bytes_out: 0,
    payload_bytes_in: 0,
    payload_bytes_out: 0,
  };
}

const SAMPLES = 256;

/** Handshake latency samples (last 256) with nearest-rank quantiles. */
export class LatencyWindow {
  #samples: number[] = [];
  #next = 0;

  /** Records one latency in milliseconds. */
  add(ms: number): void {
    if (this.#samples.length < SAMPLES) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % SAMPLES;
  }

  /** Nearest-rank quantile `ceil(q·n) − 1`; 0 with no samples. */
  quantile(q: number): number {
    const n = this.#samples.length;
    if (n === 0) return 0;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil(q * n) - 1)];
  }
}

/** Daemon metrics for the socks client or the proxy server. */
export class PaniqMetrics {
  /** `socks` adds auth_fail, proxy_decode_fail, proxy_resp_bad and hs_timeouts. */
  readonly side: "socks" | "proxy";
  active = 0;
  auth_fail = 0;
  hs_ok = 0;
  hs_fail = 0;
  reconnects = 0;
  bytes_in = 0;
  bytes_out = 0;
  proxy_decode_fail = 0;
  proxy_resp_bad = 0;
  hs_timeouts = 0;
  /** QUIC connections dialed (client) or accepted (server); not on the Go line. */
  quic_dials = 0;
  readonly envelope: EnvelopeCounters = newEnvelopeCounters();
  readonly latency = new LatencyWindow();

  constructor(side: "socks" | "proxy") {
    this.side = side;
  }

  /** The `proxy metrics k=v …` line. */
  line(): string {
    const f: [string, string | number][] = [["active", this.active]];
    if (this.side === "socks") f.push(["auth_fail", this.auth_fail]);
    f.push(
      ["hs_ok", this.hs_ok],
      ["hs_fail", this.hs_fail],
      ["reconnects", this.reconnects],
      ["bytes_in", this.bytes_in],
      ["bytes_out", this.bytes_out],
    );
    if (this.side === "socks") {
      f.push(
        ["proxy_decode_fail", this.proxy_decode_fail],
        ["proxy_resp_bad", this.proxy_resp_bad],
        ["hs_timeouts", this.hs_timeouts],
      );
    }
    for (const k of ENVELOPE_LOG_FIELDS) f.push([k, this.envelope[k]]);
    f.push(["p95", formatGoDuration(this.latency.quantile(0.95))], [
      "p99",
      formatGoDuration(this.latency.quantile(0.99)),
    ]);
    return "proxy metrics " + f.map(([k, v]) => `${k}=${v}`).join(" ");
  }

  /** All counters as a flat record (for a metrics endpoint). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {
      active: this.active,
      auth_fail: this.auth_fail,
      hs_ok: this.hs_ok,
      hs_fail: this.hs_fail,
      reconnects: this.reconnects,
      bytes_in: this.bytes_in,
      bytes_out: this.bytes_out,
      hs_timeouts: this.hs_timeouts,
      quic_dials: this.quic_dials,
    };
    for (const [k, v] of Object.entries(this.envelope)) out[`envelope_${k}`] = v;
    return out;
  }
}
