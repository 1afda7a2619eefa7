/**
 * The output document (spec traceroute.md §4, §7): types in JSON field order, normalisation
 * (ids, reachable flags, hop_count, e2e stats), private-hop removal and Go-compatible JSON.
 *
 * @module
 */
import { isPrivateIP } from "./packets/addr.ts";

/** One hop of a run. `reverse_dns` is omitted when empty. */
export interface Hop {
  ttl: number;
  ip_address: string;
  /** Milliseconds; 0 when nothing answered. */
  rtt: number;
  reachable: boolean;
  reverse_dns?: string[];
}

/** One traceroute run. */
export interface TracerouteRun {
  run_id: string;
  source: { ip_address: string; port: number };
  destination: { ip_address: string; port: number; reverse_dns?: string[] };
  hops: Hop[];
}

/** The whole result document. */
export interface Results {
  test_run_id: string;
  protocol: string;
  source: { public_ip: string };
  destination: { hostname: string; port: number };
  traceroute: { runs: TracerouteRun[] | null; hop_count: { avg: number; min: number; max: number } };
  e2e_probe: {
    rtts: number[] | null;
    packets_sent: number;
    packets_received: number;
    packet_loss_percentage: number;
    jitter: number;
    rtt: { avg: number; min: number; max: number };
  };
}

/** Returns base64url (no padding) of a fresh random UUIDv4: 22 characters. */
export function newId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Returns an empty document, as before any run finished. */
export function emptyResults(): Results {
  return {
    test_run_id: "",
    protocol: "",
    source: { public_ip: "" },
    destination: { hostname: "", port: 0 },
    traceroute: { runs: null, hop_count: { avg: 0, min: 0, max: 0 } },
    e2e_probe: {
      rtts: null,
      packets_sent: 0,
      packets_received: 0,
      packet_loss_percentage: 0,
      jitter: 0,
      rtt: { avg: 0, min: 0, max: 0 },
    },
  };
}

/**
 * Returns the value Go prints for `x` as a float32: the shortest decimal that round-trips
 * through float32, as a float64 (so `0.2`, not `0.20000000298023224`).
 */
export function float32Value(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

/** Per-run hop count: 1-based position of the last answered hop, or the hop total if none answered. */
export function runHopCount(run: TracerouteRun): number {
  for (let i = run.hops.length - 1; i >= 0; i--) if (run.hops[i].ip_address !== "") return i + 1;
  return run.hops.length;
}

/**
 * Normalises in place: assigns `test_run_id` and every `run_id`, sets `reachable`, computes
 * hop_count (with the reference's min quirk) and the e2e statistics.
 */
export function normalize(r: Results): void {
  r.test_run_id = newId();
  const runs = r.traceroute.runs ?? [];
  const counts: number[] = [];
  for (const run of runs) {
    run.run_id = newId();
    for (const h of run.hops) h.reachable = h.ip_address !== "";
    counts.push(runHopCount(run));
  }
  if (counts.length > 0) {
    let min = 0, max = 0, sum = 0;
    for (const c of counts) {
      sum += c;
      if (c > max) max = c;
      if (c < min || min === 0) min = c;
    }
    r.traceroute.hop_count = { avg: sum / counts.length, min, max };
  }
  const e2e = r.e2e_probe;
  const rtts = e2e.rtts ?? [];
  const got = rtts.filter((x) => x > 0);
  e2e.packets_sent = rtts.length;
  e2e.packets_received = got.length;
  e2e.packet_loss_percentage = rtts.length ? float32Value((rtts.length - got.length) / rtts.length) : 0;
  if (got.length) {
    let sum = 0;
    for (const x of got) sum += x;
    e2e.rtt = { avg: sum / got.length, min: Math.min(...got), max: Math.max(...got) };
  }
  let jitter = 0;
  if (got.length >= 2) {
    let sum = 0;
    for (let i = 1; i < got.length; i++) sum += Math.abs(got[i] - got[i - 1]);
    jitter = sum / (got.length - 1);
  }
  e2e.jitter = jitter;
}

/** Blanks hops whose address is RFC 1918 or fc00::/7 (stats are not recomputed). */
export function removePrivateHops(r: Results): void {
  for (const run of r.traceroute.runs ?? []) {
    run.hops = run.hops.map((h) =>
      isPrivateIP(h.ip_address) ? { ttl: h.ttl, ip_address: "", rtt: 0, reachable: false } : h
    );
  }
}

function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Serialises like Go `json.MarshalIndent(v, "", "  ")` plus a trailing newline (CLI output). */
export function toPrettyJSON(v: unknown): string {
  return goEscape(JSON.stringify(v, null, 2)) + "\n";
}

/** Serialises like Go `json.NewEncoder(w).Encode(v)`: compact plus a newline (server output). */
export function toCompactJSON(v: unknown): string {
  return goEscape(JSON.stringify(v)) + "\n";
}
