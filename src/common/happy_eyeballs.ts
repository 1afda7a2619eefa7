/**
 * Happy Eyeballs v2 connection racing (RFC 8305 §4–§5), independent of sockets: addresses
 * are interleaved by family (§4), a new attempt starts when the previous one fails or after the
 * connection attempt delay (§5), the first success wins and late successes are closed.
 *
 * @module
 */

/** Address family preference (sing-box `domain_strategy`). */
export type Strategy = "prefer_ipv4" | "prefer_ipv6" | "ipv4_only" | "ipv6_only" | "";

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Orders addresses for racing: filters by strategy and interleaves families, the preferred
 * family first (RFC 8305 §4: IPv6 first unless the strategy prefers IPv4).
 */
export function sortAddresses(addrs: readonly ResolvedAddress[], strategy: Strategy = ""): ResolvedAddress[] {
  let v4 = addrs.filter((a) => a.family === 4);
  let v6 = addrs.filter((a) => a.family === 6);
  if (strategy === "ipv4_only") v6 = [];
  if (strategy === "ipv6_only") v4 = [];
  const [first, second] = strategy === "prefer_ipv4" ? [v4, v6] : [v6, v4];
  const out: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) out.push(first[i]!);
    if (i < second.length) out.push(second[i]!);
  }
  return out;
}

/** Options of {@linkcode race}. */
export interface RaceOptions<T> {
  /** Connection attempt delay before starting the next address, ms (sing-box `fallback_delay`). @default 300 */
  delayMs?: number;
  /** Overall deadline, ms. @default 5000 */
  timeoutMs?: number;
  /** Disposes a connection that succeeded after another already won. */
  dispose(conn: T): void;
  /** Aborts the whole race. */
  signal?: AbortSignal;
}

/** All attempts failed; `errors` holds each attempt's error in order. */
export class RaceError extends AggregateError {
  constructor(errors: unknown[], message: string) {
    super(errors, message);
    this.name = "RaceError";
  }
}

/**
 * Races `attempt` over `addrs` and resolves with the first connection.
 *
 * @throws {RaceError} If every attempt fails, with the first error's message
 * @throws {DOMException} named `TimeoutError` If the deadline passes first
 */
export function race<T>(
  addrs: readonly ResolvedAddress[],
  attempt: (addr: ResolvedAddress) => Promise<T>,
  options: RaceOptions<T>,
): Promise<T> {
  const delay = options.delayMs ?? 300;
  const timeout = options.timeoutMs ?? 5000;
  return new Promise<T>((resolve, reject) => {
    if (addrs.length === 0) {
      reject(new RaceError([], "no addresses to connect to"));
      return;
    }
    let settled = false;
    let next = 0;
    let pending = 0;
    const errors: unknown[] = [];
    let stepTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      settled = true;
      clearTimeout(stepTimer);
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
    };
    const fail = (e: unknown) => {
      if (settled) return;
      finish();
      reject(e);
    };
    const deadline = setTimeout(
      () => fail(new DOMException(`connect timed out after ${timeout} ms`, "TimeoutError")),
      timeout,
    );
    const onAbort = () => fail(options.signal?.reason ?? new DOMException("aborted", "AbortError"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const start = () => {
      clearTimeout(stepTimer);
      if (settled || next >= addrs.length) return;
      const addr = addrs[next++]!;
      pending++;
      attempt(addr).then(
        (conn) => {
          pending--;
          if (settled) {
            options.dispose(conn);
            return;
          }
          finish();
          resolve(conn);
        },
        (e) => {
          pending--;
          errors.push(e);
          if (settled) return;
          if (next < addrs.length) start();
          else if (pending === 0) {
            const first = errors[0] instanceof Error ? errors[0].message : String(errors[0]);
            fail(new RaceError(errors, first));
          }
        },
      );
      if (next < addrs.length) stepTimer = setTimeout(start, delay);
    };
    start();
  });
}
