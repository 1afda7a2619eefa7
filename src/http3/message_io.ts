/**
 * Moving HTTP message bodies over a request stream: a web `ReadableStream` fed by incoming DATA
 * frames (with trailers and content-length checks), and writing a body as DATA frames.
 *
 * @module
 */
import { connectionError, H3_ERROR, H3Error, streamError } from "./errors.ts";
import { FRAME, writeFrameHeader } from "./frames.ts";
import { parseTrailerFields, responseFields, responseHasNoBody } from "./message.ts";
import type { H3Session } from "./session.ts";
import type { StreamSource } from "./stream_source.ts";
import { varintLength } from "./varint.ts";

/** How a received body ended. */
export interface BodyEnd {
  /** Trailer fields (empty when none were sent). */
  trailers: Headers;
}

/** Options of {@linkcode incomingBody}. */
export interface IncomingBodyOptions {
  session: H3Session;
  streamId: number;
  source: StreamSource;
  /** Declared content-length, checked against the DATA received. */
  contentLength?: number;
  /** Called once with the trailers when the body ended cleanly. */
  onEnd?: (end: BodyEnd) => void;
  /** Called once if the body failed or was cancelled. */
  onError?: (e: unknown) => void;
  /** Handles a PUSH_PROMISE frame seen on the stream (client side). */
  onPushPromise?: (payload: Uint8Array) => Promise<void>;
  /** Discard DATA instead of delivering it (HEAD responses, 204, 304). */
  discard?: boolean;
  /** The stream is a push stream (PUSH_PROMISE is then H3_FRAME_UNEXPECTED). */
  pushStream?: boolean;
}

/**
 * Returns the body of a message whose HEADERS have been read from `source`: DATA payloads in
 * order, trailers handed to `onEnd`.
 */
export function incomingBody(o: IncomingBodyOptions): ReadableStream<Uint8Array> {
  let received = 0;
  let trailers: Headers | undefined;
  let afterTrailers = false;
  let finished = false;
  const fail = (e: unknown) => {
    if (finished) return;
    finished = true;
    if (e instanceof H3Error && e.scope === "connection") o.session.fail(e);
    o.source.cancel().catch(() => {});
    o.session.abandonStream(o.streamId, true);
    o.onError?.(e);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const ev = await o.source.nextFrame();
          if (ev === null) {
            if (o.contentLength !== undefined && received !== o.contentLength && !o.discard) {
              throw streamError(
                H3_ERROR.MESSAGE_ERROR,
                `content-length ${o.contentLength} but ${received} bytes received`,
              );
            }
            finished = true;
            controller.close();
            o.onEnd?.({ trailers: trailers ?? new Headers() });
            return;
          }
          if (ev.kind === "header") {
            o.session.state.onRequestFrameHeader(ev.type, o.pushStream);
            if (afterTrailers && (ev.type === FRAME.DATA || ev.type === FRAME.HEADERS)) {
              throw connectionError(H3_ERROR.FRAME_UNEXPECTED, "frame after the trailers");
            }
          } else if (ev.kind === "data") {
            received += ev.data.length;
            if (o.discard) continue;
            if (o.contentLength !== undefined && received > o.contentLength) {
              throw streamError(H3_ERROR.MESSAGE_ERROR, `more than content-length ${o.contentLength} bytes`);
            }
            controller.enqueue(ev.data);
            return;
          } else if (ev.type === FRAME.HEADERS) {
            trailers = parseTrailerFields(await o.session.decodeHeaders(o.streamId, ev.payload));
            afterTrailers = true;
          } else if (ev.type === FRAME.PUSH_PROMISE && o.onPushPromise) {
            await o.onPushPromise(ev.payload);
          }
        }
      } catch (e) {
        fail(e);
        controller.error(e);
      }
    },
    cancel(reason) {
      fail(reason ?? new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", "body cancelled"));
    },
  }, { highWaterMark: 1 });
}

/** Largest DATA frame this implementation writes. */
export const MAX_DATA_FRAME = 1 << 20;

/** Chunks at least this large are written as header + payload (two writes) instead of copied. */
const COPY_LIMIT = 64 * 1024;

/**
 * Writes `chunk` as DATA frames (one per up to {@linkcode MAX_DATA_FRAME} bytes). Small chunks
 * are copied behind their frame header so each frame is one stream write; large ones are written
 * as header then payload, which costs one more write but no copy.
 */
export async function writeData(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  chunk: Uint8Array,
): Promise<void> {
  for (let at = 0; at < chunk.length; at += MAX_DATA_FRAME) {
    const part = chunk.subarray(at, Math.min(chunk.length, at + MAX_DATA_FRAME));
    const hl = 1 + varintLength(part.length);
    if (part.length >= COPY_LIMIT) {
      const header = new Uint8Array(hl);
      writeFrameHeader(header, 0, FRAME.DATA, part.length);
      await writer.ready;
      writer.write(header).catch(() => {});
      await writer.ready;
      writer.write(part).catch(() => {});
      continue;
    }
    const frame = new Uint8Array(hl + part.length);
    writeFrameHeader(frame, 0, FRAME.DATA, part.length);
    frame.set(part, hl);
    await writer.ready;
    writer.write(frame).catch(() => {});
  }
}

/**
 * Writes a whole body from `body` as DATA frames. Resolves with the number of bytes written.
 * Writes are pipelined: each waits only for the writer's backpressure, not for the previous one.
 * A byte stream (a file's `readable`, say) is read straight into this function's own buffers, see
 * {@linkcode writeByteStream}. Aborting `signal` cancels `body` (even while a read is pending) and
 * rejects with its reason.
 */
export async function writeBody(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<number> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // not a byte stream
  }
  const reader = byob ?? body.getReader();
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    if (byob) return await writeByteStream(writer, byob, signal);
    const chunks = reader as ReadableStreamDefaultReader<Uint8Array>;
    let total = 0;
    for (;;) {
      const { value, done } = await chunks.read();
      signal?.throwIfAborted();
      if (done) break;
      if (value.length === 0) continue;
      total += value.length;
      await writeData(writer, value);
    }
    return total;
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

/** Bytes read per DATA frame from a byte stream: the first read, and the size reads double up to. */
const BYOB_FIRST_READ = 64 * 1024;
const BYOB_MAX_READ = 1 << 20;
/** Room kept in front of each read for the DATA frame header (type byte + 8-byte varint). */
const HEADER_ROOM = 9;

/**
 * Writes a byte stream as DATA frames without allocating or copying per frame: each read lands
 * behind {@linkcode HEADER_ROOM} spare bytes of one of two buffers, the frame header is written
 * just before the data, and the frame goes out as one stream write. A buffer is read into again
 * only once its write has completed (the QUIC stream has copied it). Reads start at 64 KiB and
 * double up to 1 MiB, so a small body costs a small buffer. Resolves with the number of payload
 * bytes written.
 */
export async function writeByteStream(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  reader: ReadableStreamBYOBReader,
  signal?: AbortSignal,
): Promise<number> {
  let readSize = BYOB_FIRST_READ;
  let spare: ArrayBuffer | undefined;
  let pending: { write: Promise<void>; buffer: ArrayBuffer } | undefined;
  let total = 0;
  for (;;) {
    const buffer = spare && spare.byteLength >= HEADER_ROOM + readSize
      ? spare
      : new ArrayBuffer(HEADER_ROOM + readSize);
    spare = undefined;
    const { value, done } = await reader.read(new Uint8Array(buffer, HEADER_ROOM, readSize));
    signal?.throwIfAborted();
    if (done || !value) break;
    if (value.length === 0) {
      spare = value.buffer as ArrayBuffer;
      continue;
    }
    total += value.length;
    if (value.length === readSize) readSize = Math.min(readSize * 2, BYOB_MAX_READ);
    const hl = 1 + varintLength(value.length);
    const frame = new Uint8Array(value.buffer, value.byteOffset - hl, hl + value.length);
    writeFrameHeader(frame, 0, FRAME.DATA, value.length);
    await writer.ready;
    const write = writer.write(frame);
    write.catch(() => {}); // awaited below; a failure also shows in writer.ready
    if (pending) {
      await pending.write;
      spare = pending.buffer;
    }
    pending = { write, buffer: value.buffer as ArrayBuffer };
  }
  if (pending) await pending.write;
  return total;
}

const RESPONSE_TRAILERS = new WeakMap<Response, HeadersInit | (() => HeadersInit | Promise<HeadersInit>)>();

/**
 * Attaches trailers to a response served over HTTP/3: a fixed set, or a function called after the
 * body has been sent. Returns the same response.
 */
export function withTrailers(
  response: Response,
  trailers: HeadersInit | (() => HeadersInit | Promise<HeadersInit>),
): Response {
  RESPONSE_TRAILERS.set(response, trailers);
  return response;
}

/**
 * Writes a response: HEADERS, DATA frames, trailers, then FIN. Aborting `signal` stops it between
 * frames and cancels the response body.
 */
export async function writeResponse(
  session: H3Session,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  streamId: number,
  response: Response,
  method: string,
  signal?: AbortSignal,
): Promise<void> {
  const headers = new Headers(response.headers);
  const noBody = responseHasNoBody(method, response.status);
  await writer.write(session.encodeHeaders(streamId, responseFields(response.status, headers)));
  if (response.body) {
    if (noBody) await response.body.cancel();
    else await writeBody(writer, response.body, signal);
  }
  signal?.throwIfAborted();
  const t = RESPONSE_TRAILERS.get(response);
  if (t) {
    const trailers = new Headers(typeof t === "function" ? await t() : t);
    const fields = responseFields(0, trailers).slice(1);
    if (fields.length > 0) await writer.write(session.encodeHeaders(streamId, fields));
  }
  await writer.close();
}
