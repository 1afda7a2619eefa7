/**
 * {@linkcode OSError}: a failed system call with its errno, and helpers to raise it after a libc call.
 *
 * @module
 */
import { errno, strerror } from "./libc.ts";

const GO_ERRNO_TEXT: Record<number, string> = {
  1: "operation not permitted",
  13: "permission denied",
  101: "network is unreachable",
  110: "connection timed out",
  111: "connection refused",
  113: "no route to host",
};

/** A failed system call. `errno` is the Linux errno; the message ends in Go's errno text. */
export class OSError extends Error {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, text?: string, options?: ErrorOptions) {
    super(`${syscall}: ${GO_ERRNO_TEXT[errno] ?? text ?? `errno ${errno}`}`, options);
    this.name = "OSError";
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Builds an OSError for `syscall` from the current errno. */
export function lastError(syscall: string): OSError {
  const n = errno();
  return new OSError(syscall, n, strerror(n).toLowerCase());
}

/** Throws an OSError for `syscall` when `ret` is negative; returns `ret` otherwise. */
export function check<T extends number | bigint>(syscall: string, ret: T): T {
  if (Number(ret) < 0) throw lastError(syscall);
  return ret;
}
