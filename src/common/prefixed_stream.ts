/**
 * A {@linkcode Stream} that first yields bytes already read from the connection (left over
 * after a handshake), then reads from the connection itself.
 *
 * @module
 */
import type { Stream } from "../adapter/types.ts";

/** Wraps `inner`, replaying `prefix` first. */
export class PrefixedStream implements Stream {
  #inner: Stream;
  #prefix: Uint8Array | null;

  constructor(inner: Stream, prefix: Uint8Array) {
    this.#inner = inner;
    this.#prefix = prefix.length > 0 ? prefix : null;
  }

  /** The wrapped stream. */
  get inner(): Stream {
    return this.#inner;
  }

  read(p: Uint8Array): Promise<number | null> {
    const pre = this.#prefix;
    if (pre) {
      const n = Math.min(p.length, pre.length);
      p.set(pre.subarray(0, n));
      this.#prefix = n < pre.length ? pre.subarray(n) : null;
      return Promise.resolve(n);
    }
    return this.#inner.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#inner.write(p);
  }

  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }

  close(): void {
    this.#inner.close();
  }
}

/** Returns `inner` itself when there is no prefix, else a {@linkcode PrefixedStream}. */
export function withPrefix(inner: Stream, prefix: Uint8Array): Stream {
  return prefix.length ? new PrefixedStream(inner, prefix) : inner;
}

/** Writes all of `data` to `stream`. */
export async function writeAll(stream: Stream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await stream.write(data.subarray(off));
}
