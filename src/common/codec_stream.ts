/**
 * Adapts a sans-I/O stream codec (Shadowsocks AEAD chunks, VMess body, WebSocket frames) to
 * the {@linkcode Stream} contract over another stream.
 *
 * @module
 */
import type { Stream } from "../adapter/types.ts";
import { ByteQueue } from "./byte_queue.ts";
import { writeAll } from "./prefixed_stream.ts";

/** Turns plaintext into wire bytes. The result may be a reused buffer, valid until the next call. */
export interface StreamEncoder {
  encode(p: Uint8Array): Uint8Array;
  /** Wire bytes that mark the end of the stream (VMess empty chunk, WebSocket close), if any. */
  finish?(): Uint8Array | null;
}

/** Turns wire bytes from a queue into plaintext. */
export interface StreamDecoder {
  /**
   * Decodes the next unit from `q`. Returns its plaintext (a view valid until `q` changes, possibly
   * empty) or `null` when more bytes are needed.
   *
   * @throws {Error} On malformed or forged input.
   */
  decode(q: ByteQueue): Uint8Array | null;
  /** True once the peer signalled the end of the stream in-band. */
  readonly done?: boolean;
  /** Wire bytes the decoder wants sent back as they are (WebSocket pong). */
  takeReply?(): Uint8Array | null;
}

/** Reads until `p` is full; throws `Deno.errors.UnexpectedEof` if the stream ends first. */
export async function readFull(s: Stream, p: Uint8Array): Promise<void> {
  let o = 0;
  while (o < p.length) {
    const n = await s.read(p.subarray(o));
    if (n === null) throw new Deno.errors.UnexpectedEof(`Stream ended after ${o} of ${p.length} bytes`);
    o += n;
  }
}

const READ_SIZE = 128 * 1024;

/** Options for {@linkcode CodecStream}. */
export interface CodecStreamOptions {
  /** Bytes already read from `inner` and not yet decoded. */
  queue?: ByteQueue;
  /** Plaintext already decoded and not yet returned. */
  pending?: Uint8Array;
  /** Plaintext to send before the first write, or before the first read if none comes first. */
  header?: Uint8Array;
  /** Raw bytes to put on the wire before anything else (not encoded). */
  rawPrefix?: Uint8Array;
}

/** A {@linkcode Stream} that encodes writes and decodes reads. */
export class CodecStream implements Stream {
  #inner: Stream;
  #enc: StreamEncoder;
  #dec: StreamDecoder;
  #q: ByteQueue;
  #pending: Uint8Array | null;
  #header: Uint8Array | null;
  #rawPrefix: Uint8Array | null;
  #eof = false;
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    inner: Stream,
    encoder: StreamEncoder,
    decoder: StreamDecoder,
    options: CodecStreamOptions = {},
  ) {
    this.#inner = inner;
    this.#enc = encoder;
    this.#dec = decoder;
    this.#q = options.queue ?? new ByteQueue(READ_SIZE * 2);
    this.#pending = options.pending?.length ? options.pending : null;
    this.#header = options.header ?? null;
    this.#rawPrefix = options.rawPrefix ?? null;
  }

  /** The wrapped stream. */
  get inner(): Stream {
    return this.#inner;
  }

  async #flushHeader(): Promise<void> {
    const h = this.#header;
    this.#header = null;
    // Copied: encoders reuse their output buffer and a write may follow before this one ends.
    await this.#send(this.#enc.encode(h ?? new Uint8Array(0)).slice());
  }

  /** Serializes writes: a read may flush the header while the other direction writes. */
  #send(wire: Uint8Array): Promise<void> {
    if (this.#rawPrefix) {
      const pre = this.#rawPrefix;
      this.#rawPrefix = null;
      const all = new Uint8Array(pre.length + wire.length);
      all.set(pre);
      all.set(wire, pre.length);
      wire = all;
    }
    if (!wire.length) return this.#sending;
    const run = this.#sending.then(() => writeAll(this.#inner, wire));
    this.#sending = run.catch(() => {});
    return run;
  }

  #sendRaw(wire: Uint8Array): void {
    const run = this.#sending.then(() => writeAll(this.#inner, wire));
    this.#sending = run.catch(() => {});
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#header || this.#rawPrefix) await this.#flushHeader();
    let n = 0;
    if (this.#pending) {
      n = Math.min(p.length, this.#pending.length);
      p.set(this.#pending.subarray(0, n));
      this.#pending = n < this.#pending.length ? this.#pending.subarray(n) : null;
      if (n === p.length) return n;
    }
    for (;;) {
      while (n < p.length && !this.#dec.done) {
        const chunk = this.#dec.decode(this.#q);
        for (let r = this.#dec.takeReply?.(); r; r = this.#dec.takeReply!()) this.#sendRaw(r);
        if (chunk === null) break;
        const m = Math.min(p.length - n, chunk.length);
        p.set(chunk.subarray(0, m), n);
        n += m;
        if (m < chunk.length) this.#pending = chunk.slice(m);
      }
      if (n > 0) return n;
      if (this.#eof || this.#dec.done) return null;
      const m = await this.#inner.read(this.#q.reserve(READ_SIZE));
      if (m === null) {
        this.#eof = true;
        if (this.#q.length > 0) throw new Deno.errors.UnexpectedEof("Stream ended inside a record");
        return null;
      }
      this.#q.commit(m);
    }
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.#header) {
      const h = this.#header;
      this.#header = null;
      const all = new Uint8Array(h.length + p.length);
      all.set(h);
      all.set(p, h.length);
      await this.#send(this.#enc.encode(all));
      return p.length;
    }
    await this.#send(this.#enc.encode(p));
    return p.length;
  }

  async closeWrite(): Promise<void> {
    if (this.#header || this.#rawPrefix) await this.#flushHeader();
    const fin = this.#enc.finish?.();
    if (fin && fin.length) await this.#send(fin);
    await this.#inner.closeWrite();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#inner.close();
    } catch { /* already closed */ }
  }
}
