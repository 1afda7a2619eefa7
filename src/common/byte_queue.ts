/**
 * A growable FIFO of bytes for sans-I/O decoders. Readers `reserve()` free space, read straight
 * into it and `commit()` the count, so network bytes are copied once.
 *
 * @module
 */

/** FIFO byte buffer with direct-write reservations. */
export class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  /** Number of buffered bytes. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Returns at least `min` bytes of free space after the buffered data. Invalidates earlier views. */
  reserve(min: number): Uint8Array {
    if (this.#buf.length - this.#end < min) {
      const len = this.#end - this.#start;
      if (this.#buf.length - len >= min && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let cap = this.#buf.length * 2;
        while (cap - len < min) cap *= 2;
        const nb = new Uint8Array(cap);
        nb.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = nb;
      }
      this.#start = 0;
      this.#end = len;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Marks `n` bytes of the last reservation as written. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Appends a copy of `data`. */
  push(data: Uint8Array): void {
    this.reserve(data.length).set(data);
    this.#end += data.length;
  }

  /** A view of the first `n` buffered bytes (all when omitted); valid until the next `reserve`/`push`. */
  peek(n = this.length): Uint8Array {
    return this.#buf.subarray(this.#start, this.#start + Math.min(n, this.length));
  }

  /** Drops `n` bytes from the front. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start >= this.#end) this.#start = this.#end = 0;
  }

  /** Removes and returns a view of the first `n` bytes; valid until the next `reserve`/`push`. */
  take(n: number): Uint8Array {
    const v = this.#buf.subarray(this.#start, this.#start + n);
    this.consume(n);
    return v;
  }
}
