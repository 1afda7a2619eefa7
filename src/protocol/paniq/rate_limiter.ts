/**
 * Per-IP token bucket for preamble packets (paniq.md §5.4), WireGuard's ratelimiter with time
 * passed in: tokens are nanoseconds, cost = 1s/pps, capacity = cost × burst.
 *
 * @module
 */
import { DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PPS } from "./constants.ts";

const GC_AFTER_MS = 1000;

interface Entry {
  lastMs: number;
  tokens: number;
}

/** The limiter. `now` values are milliseconds (any monotonic origin). */
export class RateLimiter {
  readonly packetCost: number;
  readonly maxTokens: number;
  #table = new Map<string, Entry>();
  #lastGc = 0;

  constructor(pps: number, burst: number) {
    const p = pps > 0 ? pps : DEFAULT_RATE_LIMIT_PPS;
    const b = burst > 0 ? burst : DEFAULT_RATE_LIMIT_BURST;
    this.packetCost = Math.floor(1e9 / p);
    this.maxTokens = this.packetCost * b;
  }

  /** True if a packet from `ip` at `nowMs` is allowed. */
  allow(ip: string, nowMs: number): boolean {
    if (nowMs - this.#lastGc > GC_AFTER_MS) this.#gc(nowMs);
    const e = this.#table.get(ip);
    if (!e) {
      this.#table.set(ip, { lastMs: nowMs, tokens: this.maxTokens - this.packetCost });
      return true;
    }
    e.tokens = Math.min(this.maxTokens, e.tokens + Math.max(0, nowMs - e.lastMs) * 1e6);
    e.lastMs = nowMs;
    if (e.tokens > this.packetCost) {
      e.tokens -= this.packetCost;
      return true;
    }
    return false;
  }

  #gc(nowMs: number): void {
    this.#lastGc = nowMs;
    for (const [ip, e] of this.#table) if (nowMs - e.lastMs > GC_AFTER_MS) this.#table.delete(ip);
  }

  /** Tracked IPs (for tests and metrics). */
  get size(): number {
    return this.#table.size;
  }
}
