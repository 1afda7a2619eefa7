/**
 * DNS over a byte stream (RFC 1035 §4.2.2, RFC 7766): 2-byte length-prefixed messages. Shared by
 * the `tcp` and `tls` transports and the DNS stream servers.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { withLengthPrefix } from "../wire.ts";

/**
 * Reads exactly `n` bytes, or resolves `null` on a clean end of stream before the first byte.
 *
 * @throws {Deno.errors.UnexpectedEof} If the stream ends part way
 */
export async function readFull(stream: Stream, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await stream.read(out.subarray(got));
    if (r === null) {
      if (got === 0) return null;
      throw new Deno.errors.UnexpectedEof(`DNS stream ended after ${got} of ${n} bytes`);
    }
    got += r;
  }
  return out;
}

/** Writes all of `data`. */
export async function writeAll(stream: Stream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await stream.write(data.subarray(off));
}

/** Reads one length-prefixed DNS message; `null` at a clean end of stream. */
export async function readStreamMessage(stream: Stream): Promise<Uint8Array | null> {
  const head = await readFull(stream, 2);
  if (!head) return null;
  const len = (head[0] << 8) | head[1];
  const body = await readFull(stream, len);
  if (!body) throw new Deno.errors.UnexpectedEof("DNS stream ended after a length prefix");
  return body;
}

/** Writes one DNS message with its length prefix. */
export function writeStreamMessage(stream: Stream, message: Uint8Array): Promise<void> {
  return writeAll(stream, withLengthPrefix(message));
}

/**
 * Runs `fn` and rejects with the signal's reason if `signal` aborts first, calling `onAbort`
 * (to close a socket) so the pending I/O ends.
 */
export function withAbort<T>(
  signal: AbortSignal | undefined,
  onAbort: () => void,
  fn: () => Promise<T>,
): Promise<T> {
  if (!signal) return fn();
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    fn().then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
