/**
 * Reading a QUIC receive stream as HTTP/3 input: a leading varint (unidirectional stream type,
 * push ID), raw chunks (QPACK streams), or frame events (control, request and push streams).
 *
 * @module
 */
import { connectionError, H3_ERROR } from "./errors.ts";
import { type FrameEvent, FrameReader, type FrameReaderOptions } from "./frames.ts";
import { decodeVarint } from "./varint.ts";

/** Pulls bytes from a `ReadableStream<Uint8Array>` and parses what HTTP/3 puts on it. */
export class StreamSource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array | undefined;
  #eof = false;
  #frames: FrameReader | undefined;
  #frameOptions: FrameReaderOptions;
  /** Total payload bytes read (frames included). */
  bytesRead = 0;

  constructor(readable: ReadableStream<Uint8Array>, frameOptions: FrameReaderOptions = {}) {
    this.#reader = readable.getReader();
    this.#frameOptions = frameOptions;
  }

  /** Reads the next chunk: leftover bytes first, then the stream. `null` at the end. */
  async readChunk(): Promise<Uint8Array | null> {
    if (this.#pending) {
      const p = this.#pending;
      this.#pending = undefined;
      return p;
    }
    if (this.#eof) return null;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#eof = true;
      return null;
    }
    this.bytesRead += value.length;
    return value;
  }

  /** Reads one varint; `null` if the stream ends before it starts. */
  async readVarint(): Promise<number | null> {
    const first = await this.readChunk();
    if (first === null) return null;
    let buf: Uint8Array = first;
    for (;;) {
      const v = decodeVarint(buf, 0);
      if (v) {
        if (v.next < buf.length) this.#pending = buf.subarray(v.next);
        return v.value;
      }
      const more = await this.readChunk();
      if (more === null) throw connectionError(H3_ERROR.FRAME_ERROR, "stream ended inside a varint");
      const joined: Uint8Array = new Uint8Array(buf.length + more.length);
      joined.set(buf);
      joined.set(more, buf.length);
      buf = joined;
    }
  }

  /**
   * Returns the next frame event, or `null` when the stream ends cleanly between frames.
   *
   * @throws {H3Error} H3_FRAME_ERROR if the stream ends inside a frame, and whatever
   * {@linkcode FrameReader.next} throws.
   */
  async nextFrame(): Promise<FrameEvent | null> {
    const frames = this.#frames ??= new FrameReader(this.#frameOptions);
    for (;;) {
      const ev = frames.next();
      if (ev) return ev;
      const chunk = await this.readChunk();
      if (chunk === null) {
        if (!frames.atFrameBoundary) {
          throw connectionError(H3_ERROR.FRAME_ERROR, "stream ended inside a frame");
        }
        return null;
      }
      frames.push(chunk);
    }
  }

  /** Stops reading (QUIC STOP_SENDING). Never throws. */
  async cancel(reason?: unknown): Promise<void> {
    this.#eof = true;
    this.#pending = undefined;
    try {
      await this.#reader.cancel(reason);
    } catch {
      // already closed or errored
    }
  }
}
