/**
 * Traceroute parameters and their defaults (spec traceroute.md §2, §3.3).
 *
 * @module
 */

/** Defaults of the reference (`common/common.go`). */
export const DEFAULTS = {
  protocol: "udp",
  port: 33434,
  tracerouteQueries: 3,
  maxTtl: 30,
  minTtl: 1,
  timeoutMs: 3000,
  delayMs: 50,
  tcpMethod: "syn",
  e2eQueries: 50,
} as const;

/** Everything one invocation or request asks for. */
export interface TracerouteParams {
  hostname: string;
  port: number;
  protocol: string;
  minTtl: number;
  /** Already wrapped to 0..255 (Go uint8 cast). */
  maxTtl: number;
  delayMs: number;
  timeoutMs: number;
  tcpMethod: string;
  wantV6: boolean;
  reverseDns: boolean;
  collectSourcePublicIP: boolean;
  tracerouteQueries: number;
  e2eQueries: number;
  useWindowsDriver: boolean;
  skipPrivateHops: boolean;
  /** Beyond the reference: end parallel runs once complete. @default true */
  earlyFinish?: boolean;
}

/** Returns params with every default filled in for `hostname`. */
export function defaultParams(hostname: string): TracerouteParams {
  return {
    hostname,
    port: DEFAULTS.port,
    protocol: DEFAULTS.protocol,
    minTtl: DEFAULTS.minTtl,
    maxTtl: DEFAULTS.maxTtl,
    delayMs: DEFAULTS.delayMs,
    timeoutMs: DEFAULTS.timeoutMs,
    tcpMethod: DEFAULTS.tcpMethod,
    wantV6: false,
    reverseDns: false,
    collectSourcePublicIP: false,
    tracerouteQueries: DEFAULTS.tracerouteQueries,
    e2eQueries: DEFAULTS.e2eQueries,
    useWindowsDriver: false,
    skipPrivateHops: false,
    earlyFinish: true,
  };
}

/** Go's `uint8(n)` for the max-ttl flag. */
export function wrapUint8(n: number): number {
  return ((n % 256) + 256) % 256;
}

/** Go `strconv.Atoi`: optional sign and decimal digits within int64, else null. */
export function parseGoInt(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** Go `strconv.ParseBool`, else null. */
export function parseGoBool(s: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return null;
}
