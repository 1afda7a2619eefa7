/**
 * Adapts a Deno `QuicBidirectionalStream` to the router's {@linkcode Stream} interface, so the
 * common relay can copy it with half-close: `closeWrite()` sends FIN, reads end at the peer's FIN.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";

/** A QUIC stream as a {@linkcode Stream}. `initial` bytes are returned before the stream's own. */
export class QuicStream implements Stream {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: Uint8Array | null;
  #closed = false;
  #writeClosed = false;

  constructor(stream: Deno.QuicBidirectionalStream, initial?: Uint8Array) {
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
    this.#pending = initial && initial.length > 0 ? initial : null;
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (!this.#pending) {
      const r = await this.#reader.read();
      if (r.done) return null;
      this.#pending = r.value;
    }
    const chunk = this.#pending;
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    this.#pending = n < chunk.length ? chunk.subarray(n) : null;
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    // Deno's stream sink resolves a write once the resource took all of it (quinn copies it into
    // its send buffer), so `p` is free again when this resolves and needs no copy.
    await this.#writer.write(p);
    return p.length;
  }

  async closeWrite(): Promise<void> {
    if (this.#writeClosed) return;
    this.#writeClosed = true;
    await this.#writer.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.cancel().catch(() => {});
    if (!this.#writeClosed) {
      this.#writeClosed = true;
      this.#writer.abort().catch(() => {});
    }
  }
}
