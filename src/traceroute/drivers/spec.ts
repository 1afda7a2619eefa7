/**
 * What one run needs and what it returns.
 *
 * @module
 */
import type { TracerouteRun } from "../result.ts";

/** Parameters of one run (one traceroute or one e2e probe). */
export interface RunSpec {
  /** Resolved target IP (canonical text). */
  target: string;
  /** Probed port (UDP/TCP; ignored by ICMP). */
  port: number;
  minTtl: number;
  maxTtl: number;
  timeoutMs: number;
  /** Inter-probe delay (50 ms; SACK uses 10 ms). */
  delayMs: number;
  /** End parallel runs as soon as every TTL up to the destination answered. */
  earlyFinish: boolean;
  /** Windows: packet I/O through the ddnpm driver. */
  useDriver?: boolean;
  signal?: AbortSignal;
  /** Trace-level log sink (no-op unless verbose). */
  log: (msg: string) => void;
}

/** A finished run: the run object (ids filled later) and the destination hop RTT, if reached. */
export interface RunOutcome {
  run: TracerouteRun;
  destRtt: number | null;
}
