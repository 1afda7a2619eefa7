/**
 * Typed traceroute errors and their classification into the HTTP error codes of the reference
 * (spec traceroute.md §3.4). Messages keep the reference's wording because clients grep them.
 *
 * @module
 */
import { OSError } from "../../ffi/os_error.ts";

export { OSError };

/** An error code of the HTTP API. Only `INVALID_REQUEST` maps to 400. */
export type ErrorCode =
  | "DNS"
  | "TIMEOUT"
  | "CONNREFUSED"
  | "HOSTUNREACH"
  | "NETUNREACH"
  | "DENIED"
  | "INVALID_REQUEST"
  | "FAILED_ENCODING"
  | "UNKNOWN";

/** The target (protocol, host:port, port range) is invalid: HTTP 400. */
export class InvalidTargetError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidTargetError";
  }
}

/** Resolving the target failed. `timeout` marks a resolver timeout (code `TIMEOUT`). */
export class DNSError extends Error {
  readonly host: string;
  readonly timeout: boolean;
  constructor(host: string, detail: string, options?: ErrorOptions & { timeout?: boolean }) {
    super(`failed to resolve host ${goQuote(host)}: ${detail}`, options);
    this.name = "DNSError";
    this.host = host;
    this.timeout = options?.timeout ?? false;
  }
}

/** SACK traceroute cannot be used against this target; `prefer_sack` falls back to SYN on it. */
export class SackNotSupportedError extends Error {
  constructor(detail: string, options?: ErrorOptions) {
    super(`SACK not supported for this target/source: ${detail}`, options);
    this.name = "SackNotSupportedError";
  }
}

/** A run's deadline passed or it was cancelled (code `TIMEOUT`). */
export class TimeoutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/** Linux errno values the classifier knows. */
export const ERRNO = {
  EPERM: 1,
  EINTR: 4,
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  ENETUNREACH: 101,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EPROTONOSUPPORT: 93,
  EAFNOSUPPORT: 97,
} as const;

/** Several run errors joined, de-duplicated by message (Go `errors.Join`). */
export class JoinedError extends Error {
  readonly errors: Error[];
  constructor(errors: Error[]) {
    const seen = new Set<string>();
    const unique = errors.filter((e) => !seen.has(e.message) && seen.add(e.message));
    super(unique.map((e) => e.message).join("\n"));
    this.name = "JoinedError";
    this.errors = unique;
  }
}

/** Wraps `cause` with a prefix, Go `fmt.Errorf("prefix: %w")` style. */
export function wrap(prefix: string, cause: unknown): Error {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new WrappedError(`${prefix}: ${msg}`, { cause });
}

/** An error that adds context to its `cause`. */
export class WrappedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WrappedError";
  }
}

/** Quotes a string the way Go's `%q` does for printable ASCII. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** Walks an error chain (causes and joined errors), depth first. */
function* chain(e: unknown): Generator<unknown> {
  const stack = [e];
  const seen = new Set<unknown>();
  while (stack.length) {
    const cur = stack.pop();
    if (cur === undefined || seen.has(cur)) continue;
    seen.add(cur);
    yield cur;
    if (cur instanceof JoinedError) stack.push(...[...cur.errors].reverse());
    if (cur instanceof AggregateError) stack.push(...[...cur.errors].reverse());
    if (cur instanceof Error && cur.cause !== undefined) stack.push(cur.cause);
  }
}

function errnoOf(e: unknown): number | undefined {
  if (e instanceof OSError) return e.errno;
  if (e instanceof Deno.errors.ConnectionRefused) return ERRNO.ECONNREFUSED;
  if (e instanceof Deno.errors.PermissionDenied) return ERRNO.EACCES;
  if (e instanceof Deno.errors.TimedOut) return ERRNO.ETIMEDOUT;
  if (e instanceof Deno.errors.NetworkUnreachable) return ERRNO.ENETUNREACH;
  if (e instanceof Error && /No route to host|os error 113/.test(e.message)) return ERRNO.EHOSTUNREACH;
  return undefined;
}

const ERRNO_CODE: Record<number, ErrorCode> = {
  [ERRNO.ETIMEDOUT]: "TIMEOUT",
  [ERRNO.ECONNREFUSED]: "CONNREFUSED",
  [ERRNO.EHOSTUNREACH]: "HOSTUNREACH",
  [ERRNO.ENETUNREACH]: "NETUNREACH",
  [ERRNO.EACCES]: "DENIED",
  [ERRNO.EPERM]: "DENIED",
};

/**
 * Classifies an error the way the reference server does: DNS, then invalid target, then
 * timeouts, then the first errno in the chain, else `UNKNOWN`.
 */
export function classifyError(e: unknown): ErrorCode {
  const all = [...chain(e)];
  const dns = all.find((x) => x instanceof DNSError) as DNSError | undefined;
  if (dns) return dns.timeout ? "TIMEOUT" : "DNS";
  if (all.some((x) => x instanceof InvalidTargetError)) return "INVALID_REQUEST";
  if (all.some((x) => x instanceof TimeoutError)) return "TIMEOUT";
  for (const x of all) {
    const n = errnoOf(x);
    if (n !== undefined && ERRNO_CODE[n]) return ERRNO_CODE[n];
  }
  return "UNKNOWN";
}

/** HTTP status for an error code: 400 for `INVALID_REQUEST`, else 500. */
export function httpStatus(code: ErrorCode): number {
  return code === "INVALID_REQUEST" ? 400 : 500;
}
