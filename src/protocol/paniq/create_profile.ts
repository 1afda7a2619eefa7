/**
 * Randomized profile generation with the rules of the Go `bf create-profile` tool
 * (paniq.md §4.7): junk, padding and header ranges in safe bounds for an MTU, both keys,
 * all timestamp checks on.
 *
 * @module
 */
import { generateKeyPair } from "./keys.ts";
import type { TransportPaddingConfig } from "./padding.ts";
import { emptyObfConfig, emptyProfile, type Profile } from "./profile.ts";
import { randomRange, randomUint32 } from "./random.ts";

const MSB_BUCKET = 1 << 24;

/** Four non-overlapping ranges of width `width` (end = start + width), each in a distinct top byte. */
export function generateHeaderRanges(width: number): { start: number; end: number }[] {
  if (width >= MSB_BUCKET) throw new RangeError(`width must be < ${MSB_BUCKET} for distinct-msb`);
  const used = new Set<number>();
  const out: { start: number; end: number }[] = [];
  while (out.length < 4) {
    let msb: number;
    do msb = randomUint32() >>> 24; while (used.has(msb));
    const bucketMin = msb * MSB_BUCKET;
    const start = bucketMin + (randomUint32() % (MSB_BUCKET - 1 - width + 1));
    used.add(msb);
    out.push({ start, end: start + width });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The padding `bf` derives from the headroom. */
export function paddingForHeadroom(h: number): TransportPaddingConfig {
  if (h <= 0) return { pad_min: 0, pad_max: 0, pad_burst_min: 0, pad_burst_max: 0, pad_burst_prob: 0 };
  const min = h < 16 ? 0 : Math.min(16, h);
  const max = Math.max(min, Math.min(96, h));
  if (h < 96) return { pad_min: min, pad_max: max, pad_burst_min: 0, pad_burst_max: 0, pad_burst_prob: 0 };
  return {
    pad_min: min,
    pad_max: max,
    pad_burst_min: Math.min(96, h),
    pad_burst_max: Math.min(128, h),
    pad_burst_prob: 0.02,
  };
}

/** Options of {@linkcode createProfile}. */
export interface CreateProfileOptions {
  /** Path MTU budget used as `max_packet_size`. @default 1420 */
  mtu: number;
  /** Profile name; `bf-YYYY-MM-DD` when empty. */
  name: string;
  proxyAddr: string;
  /** Clock for the default name. */
  now?: number;
}

/**
 * Builds a randomized profile.
 *
 * @throws {RangeError} If `mtu < 1280`
 */
export function createProfile(opts: CreateProfileOptions): Profile {
  const mtu = opts.mtu;
  if (!Number.isInteger(mtu) || mtu < 1280) throw new RangeError("mtu must be >= 1280");
  const jc = randomRange(3, 5);
  const jmin = randomRange(200, 600);
  const jmaxUpper = Math.min(1400, Math.max(900, mtu - 100));
  let jmax = randomRange(900, jmaxUpper);
  if (jmax <= jmin) jmax = Math.min(jmaxUpper, jmin + randomRange(200, 600));
  const s1 = randomRange(200, 520);
  const s2 = randomRange(260, 640);
  const s3 = randomRange(120, 360);
  let s4 = randomRange(20, 80);
  const ranges = generateHeaderRanges(randomRange(512, 2048));
  s4 = Math.min(s4, mtu - (1200 + 6));
  const overhead = s4 + 4 + 2;
  const maxPayload = 1200;
  const headroom = mtu - overhead - maxPayload;
  const keys = generateKeyPair();
  const p = emptyProfile();
  p.name = opts.name || `bf-${new Date(opts.now ?? Date.now()).toISOString().slice(0, 10)}`;
  p.proxy_addr = opts.proxyAddr;
  p.handshake_timeout = 5000;
  p.handshake_attempts = 3;
  p.preamble_delay_ms = 5;
  p.preamble_jitter_ms = 5;
  p.quic = {
    max_packet_size: mtu,
    max_payload: maxPayload,
    keepalive: 20_000,
    idle_timeout: 120_000,
    max_streams: 256,
  };
  p.obfuscation = {
    ...emptyObfConfig(),
    jc,
    jmin,
    jmax,
    s1,
    s2,
    s3,
    s4,
    h1: `${ranges[0].start}-${ranges[0].end}`,
    h2: `${ranges[1].start}-${ranges[1].end}`,
    h3: `${ranges[2].start}-${ranges[2].end}`,
    h4: `${ranges[3].start}-${ranges[3].end}`,
    i1: "<t>",
    server_private_key: keys.privateKey,
    server_public_key: keys.publicKey,
    signature_validate: true,
    require_timestamp: true,
    encrypted_timestamp: true,
    require_encrypted_timestamp: true,
    skew_soft_seconds: 15,
    skew_hard_seconds: 30,
    replay_window_seconds: 30,
    replay_cache_size: 4096,
    rate_limit_pps: 50,
    rate_limit_burst: 20,
  };
  p.transport_padding = paddingForHeadroom(headroom);
  return p;
}
