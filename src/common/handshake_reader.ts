/**
 * Reads a protocol handshake from a {@linkcode Stream} with a sans-I/O decoder: bytes are
 * accumulated until the decoder returns a value, within a size limit and a deadline. What was
 * read past the handshake is returned by {@linkcode HandshakeReader.rest} so no data is lost.
 *
 * @module
 */
import type { Stream } from "../adapter/types.ts";
import { ProtocolError } from "./errors.ts";
import type { Decoded } from "./socks_addr.ts";

/** Thrown when a peer does not finish its handshake in time. */
export class HandshakeTimeoutError extends Error {
  constructor(ms: number) {
    super(`Handshake timed out after ${ms} ms`);
    this.name = "HandshakeTimeoutError";
  }
}

/** Buffers a stream during a handshake. */
export class HandshakeReader {
  #stream: Stream;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #limit: number;

  /**
   * @param stream the connection
   * @param limit largest handshake accepted, bytes
   * @default limit 65536
   */
  constructor(stream: Stream, limit = 65536) {
    this.#stream = stream;
    this.#limit = limit;
    this.#buf = new Uint8Array(Math.min(512, limit));
  }

  /** Bytes buffered but not yet consumed. */
  get buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Reads more bytes; resolves to false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#end - this.#start >= this.#limit) {
        throw new ProtocolError("handshake", this.#end - this.#start, `message exceeds ${this.#limit} bytes`);
      }
      const next = new Uint8Array(Math.min(this.#limit, this.#buf.length * 2));
      next.set(this.buffered);
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = next;
    }
    const n = await this.#stream.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Peeks at least `n` bytes (fewer only at end of stream). */
  async peek(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) if (!await this.fill()) break;
    return this.buffered;
  }

  /**
   * Decodes the next message with `decode`, reading as needed, and consumes its bytes.
   * @throws {ProtocolError} If the decoder rejects the bytes, or the stream ends mid-message
   */
  async read<T>(decode: (buf: Uint8Array) => Decoded<T>, protocol = "handshake"): Promise<T> {
    for (;;) {
      const r = this.#end > this.#start ? decode(this.buffered) : null;
      if (r) {
        this.#start += r.length;
        return r.value;
      }
      if (!await this.fill()) {
        throw new ProtocolError(protocol, this.#end - this.#start, "connection closed during handshake");
      }
    }
  }

  /** Consumes `n` buffered bytes. */
  skip(n: number): void {
    this.#start = Math.min(this.#end, this.#start + n);
  }

  /** Returns and removes the unconsumed bytes (a copy). */
  rest(): Uint8Array {
    const out = this.buffered.slice();
    this.#start = this.#end = 0;
    return out;
  }
}

/**
 * Runs `fn` with a deadline: when `ms` elapses first, `stream` is closed (which fails any pending
 * read) and a {@linkcode HandshakeTimeoutError} is thrown.
 */
export async function withDeadline<T>(stream: Stream, ms: number, fn: () => Promise<T>): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      stream.close();
    } catch { /* already closed */ }
  }, ms);
  try {
    return await fn();
  } catch (e) {
    if (timedOut) throw new HandshakeTimeoutError(ms);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
