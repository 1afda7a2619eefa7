/**
 * Bidirectional copy between two streams: a plain read/write loop with large buffers (the
 * fast path; `pipeTo` costs ~40%, environment.md §6), TCP half-close propagated (EOF on one
 * side becomes `closeWrite()` on the other), byte counters and an idle timeout.
 *
 * @module
 */
import type { Stream } from "../adapter/types.ts";

/** Read buffer per direction during bulk transfer, bytes. 256 KiB measured fastest on loopback (environment.md §6). */
export const RELAY_BUFFER_SIZE = 256 * 1024;
/** Read buffer of an idle or low-rate direction, bytes: a pending read costs ~2.3 KiB plus its buffer in Deno, so idle connections stay small. */
export const RELAY_SMALL_BUFFER_SIZE = 512;
/** Consecutive small reads after which a direction gives its large buffer back. */
const SMALL_READS_TO_SHRINK = 8;
/** Free large buffers kept for reuse. */
const POOL_LIMIT = 64;

const pool: Uint8Array[] = [];

function takeLarge(): Uint8Array {
  return pool.pop() ?? new Uint8Array(RELAY_BUFFER_SIZE);
}

function releaseLarge(buf: Uint8Array): void {
  if (pool.length < POOL_LIMIT) pool.push(buf);
}

/** Byte counters, updated live while the relay runs. */
export interface RelayCounters {
  /** Bytes from the client (inbound side) to the remote. */
  upload: number;
  /** Bytes from the remote to the client. */
  download: number;
}

/** Outcome of {@linkcode relay}. */
export interface RelayResult extends RelayCounters {
  /** The first error that was not an ordinary teardown (reset, broken pipe), for logging. */
  error?: unknown;
  /** True when the idle timeout closed the connection. */
  idleTimedOut: boolean;
}

/** Options of {@linkcode relay}. */
export interface RelayOptions {
  /** Close both sides after this long with no bytes in either direction, ms. 0 disables. @default 0 */
  idleTimeoutMs?: number;
  /** Counters to update (so callers can watch live traffic). */
  counters?: RelayCounters;
  /** Aborting closes both sides at once. */
  signal?: AbortSignal;
}

function isBenignClose(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return e.name === "BadResource" || e.name === "Interrupted" || e.name === "BrokenPipe" ||
    e.name === "ConnectionReset" || e.name === "NotConnected";
}

/**
 * Copies one direction. Reads start with a small buffer; a read that fills it switches to a
 * pooled large buffer (bulk transfer), and a run of small reads gives the large one back, so
 * idle connections hold only a few KiB.
 */
async function pump(
  from: Stream,
  to: Stream,
  onBytes: (n: number) => void,
): Promise<void> {
  const small = new Uint8Array(RELAY_SMALL_BUFFER_SIZE);
  let buf: Uint8Array = small;
  let smallReads = 0;
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
      onBytes(n);
      if (buf === small) {
        if (n === small.length) buf = takeLarge();
      } else if (n < RELAY_SMALL_BUFFER_SIZE) {
        if (++smallReads >= SMALL_READS_TO_SHRINK) {
          releaseLarge(buf);
          buf = small;
          smallReads = 0;
        }
      } else smallReads = 0;
    }
  } finally {
    if (buf !== small) releaseLarge(buf);
  }
  try {
    await to.closeWrite();
  } catch (e) {
    if (!isBenignClose(e)) throw e;
  }
}

/**
 * Copies `client` ↔ `remote` until both directions reach end of stream (or an error, the idle
 * timeout or the abort signal), then closes both. Resolves with the counters; never rejects
 * for ordinary connection teardown (reset, broken pipe).
 *
 * @returns the final byte counts and the first unexpected error
 */
export async function relay(
  client: Stream,
  remote: Stream,
  options: RelayOptions = {},
): Promise<RelayResult> {
  const counters = options.counters ?? { upload: 0, download: 0 };
  let lastActivity = performance.now();
  let closed = false;
  let idleTimedOut = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    for (const s of [client, remote]) {
      try {
        s.close();
      } catch { /* already closed */ }
    }
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  const idle = options.idleTimeoutMs ?? 0;
  if (idle > 0) {
    timer = setInterval(() => {
      if (performance.now() - lastActivity >= idle) {
        idleTimedOut = true;
        closeBoth();
      }
    }, Math.max(100, Math.min(idle / 4, 10_000)));
  }
  const onAbort = () => closeBoth();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const up = pump(client, remote, (n) => {
    counters.upload += n;
    lastActivity = performance.now();
  });
  const down = pump(remote, client, (n) => {
    counters.download += n;
    lastActivity = performance.now();
  });
  // If one direction fails, tear down the other instead of waiting for it.
  let error: unknown;
  const onError = (e: unknown) => {
    if (!closed && !isBenignClose(e) && error === undefined) error = e;
    closeBoth();
  };
  await Promise.all([up.catch(onError), down.catch(onError)]);
  if (timer !== undefined) clearInterval(timer);
  options.signal?.removeEventListener("abort", onAbort);
  closeBoth();
  return { upload: counters.upload, download: counters.download, error, idleTimedOut };
}
