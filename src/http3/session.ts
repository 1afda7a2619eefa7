/**
 * One HTTP/3 connection over a `Deno.QuicConn` (RFC 9114 §3, §6): opens this endpoint's control
 * and QPACK streams and sends SETTINGS, reads the peer's unidirectional streams, applies
 * connection rules through {@linkcode H3ConnectionState}, and carries QPACK encoder/decoder
 * instructions. Request streams are driven by the client and server modules, which use
 * {@linkcode H3Session.encodeHeaders} and {@linkcode H3Session.decodeHeaders}.
 *
 * Any connection error closes the QUIC connection with the error's code (CONNECTION_CLOSE with an
 * HTTP/3 application error). Deno's QUIC API cannot reset a single stream with a chosen code, so
 * stream errors end reading (STOP_SENDING with code 0) and finish the stream instead.
 *
 * @module
 */
import { getLogger } from "../common/log.ts";
import { H3_ERROR, H3Error } from "./errors.ts";
import { encodeFrame, encodeSettingsFrame, encodeVarintFrame, FRAME, greaseType } from "./frames.ts";
import { type ControlEvent, H3ConnectionState, type Role, STREAM_TYPE } from "./connection_state.ts";
import { QpackDecoder } from "./qpack/decoder.ts";
import { QpackEncoder, type QpackEncoderOptions } from "./qpack/encoder.ts";
import type { Field } from "./qpack/static_table.ts";
import { DEFAULT_SETTINGS, type H3Settings, settingsPairs } from "./settings.ts";
import { StreamSource } from "./stream_source.ts";
import { varintBytes } from "./varint.ts";

const log = getLogger("http3");

/** Session settings and hooks. */
export interface H3SessionOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY this endpoint's decoder accepts. @default 4096 */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. @default 100 */
  qpackBlockedStreams?: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE this endpoint accepts. @default 65536 */
  maxFieldSectionSize?: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220). @default false */
  enableConnectProtocol?: boolean;
  /** Encoder preferences (Huffman, own table limit). */
  qpack?: QpackEncoderOptions;
  /** Send a reserved unidirectional stream and settings, as RFC 9114 §6.2.3 suggests. @default true */
  grease?: boolean;
  /** Called when the peer sends GOAWAY. */
  onGoaway?: (id: number) => void;
  /** Called for a peer control-stream event (after the session has applied it). */
  onControlEvent?: (ev: ControlEvent) => void;
  /** Client only: the largest push ID the server may use (sends MAX_PUSH_ID). @default none (no push) */
  maxPushId?: number;
  /** Client only: called with a push stream's ID and source after its push ID is validated. */
  onPushStream?: (pushId: number, source: StreamSource, streamId: number) => void;
}

interface Waiter {
  resolve(fields: Field[]): void;
  reject(e: unknown): void;
}

/** HTTP/3 connection machinery shared by client and server. */
export class H3Session {
  readonly conn: Deno.QuicConn;
  readonly role: Role;
  readonly state: H3ConnectionState;
  readonly encoder: QpackEncoder;
  readonly decoder: QpackDecoder;
  /** The settings this endpoint sent. */
  readonly localSettings: H3Settings;
  readonly #options: H3SessionOptions;
  readonly #peerSettings = Promise.withResolvers<H3Settings>();
  readonly #closed = Promise.withResolvers<void>();
  #control!: WritableStreamDefaultWriter<Uint8Array>;
  #encoderStream!: WritableStreamDefaultWriter<Uint8Array>;
  #decoderStream!: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiters = new Map<number, Waiter>();
  #decoderFlushQueued = false;
  #error: Error | undefined;
  #closing = false;

  private constructor(conn: Deno.QuicConn, role: Role, options: H3SessionOptions) {
    this.conn = conn;
    this.role = role;
    this.#options = options;
    this.state = new H3ConnectionState(role);
    if (role === "client" && options.maxPushId !== undefined) this.state.maxPushId = options.maxPushId;
    this.localSettings = {
      ...DEFAULT_SETTINGS,
      qpackMaxTableCapacity: options.qpackMaxTableCapacity ?? 4096,
      qpackBlockedStreams: options.qpackBlockedStreams ?? 100,
      maxFieldSectionSize: options.maxFieldSectionSize ?? 65536,
      enableConnectProtocol: options.enableConnectProtocol ?? false,
    };
    this.encoder = new QpackEncoder(options.qpack);
    this.decoder = new QpackDecoder({
      maxTableCapacity: this.localSettings.qpackMaxTableCapacity,
      maxBlockedStreams: this.localSettings.qpackBlockedStreams,
      maxFieldSectionSize: this.localSettings.maxFieldSectionSize,
    });
    // Settle `closed` when QUIC does, whichever side closed.
    conn.closed.then(
      (info) =>
        this.#onConnectionClosed(
          info.closeCode === 0 || info.closeCode === H3_ERROR.NO_ERROR
            ? undefined
            : new H3Error(info.closeCode, "connection", `connection closed: ${info.reason || "no reason"}`),
        ),
      (e) => this.#onConnectionClosed(e instanceof Error ? e : new Error(String(e))),
    );
    this.#peerSettings.promise.catch(() => {});
  }

  /**
   * Starts HTTP/3 on an established QUIC connection: opens the control stream (SETTINGS first)
   * and the QPACK encoder and decoder streams, and begins reading the peer's streams.
   */
  static async start(conn: Deno.QuicConn, role: Role, options: H3SessionOptions = {}): Promise<H3Session> {
    const s = new H3Session(conn, role, options);
    await s.#openStreams();
    s.#acceptUniStreams();
    if (role === "client") s.#refuseBidiStreams();
    return s;
  }

  /** Resolves with the peer's SETTINGS once they arrive. */
  get peerSettings(): Promise<H3Settings> {
    return this.#peerSettings.promise;
  }

  /** Resolves when the QUIC connection has closed. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** The error that ended the connection, if any (undefined for a clean close). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Whether the connection is closing or closed. */
  get isClosed(): boolean {
    return this.#closing;
  }

  async #openStreams(): Promise<void> {
    const grease = this.#options.grease ?? true;
    const control = await this.conn.createUnidirectionalStream({ sendOrder: 1 });
    this.#control = control.getWriter();
    const settings = encodeSettingsFrame(settingsPairs(this.localSettings, grease));
    this.#send(this.#control, concat([varintBytes(STREAM_TYPE.CONTROL), settings]));
    if (this.role === "client" && this.state.maxPushId >= 0) {
      this.#send(this.#control, encodeVarintFrame(FRAME.MAX_PUSH_ID, this.state.maxPushId));
    }
    const enc = await this.conn.createUnidirectionalStream({ sendOrder: 1 });
    this.#encoderStream = enc.getWriter();
    this.#send(this.#encoderStream, varintBytes(STREAM_TYPE.QPACK_ENCODER));
    const dec = await this.conn.createUnidirectionalStream({ sendOrder: 1 });
    this.#decoderStream = dec.getWriter();
    this.#send(this.#decoderStream, varintBytes(STREAM_TYPE.QPACK_DECODER));
    if (grease) {
      // A reserved stream type with a few bytes; the peer must ignore it (RFC 9114 §6.2.3).
      try {
        const g = await this.conn.createUnidirectionalStream();
        const w = g.getWriter();
        this.#send(
          w,
          concat([varintBytes(greaseType(Math.floor(Math.random() * 100))), new Uint8Array([0x67])]),
        );
        w.close().catch(() => {});
      } catch {
        // Stream limit reached: grease is optional.
      }
    }
  }

  /** Allows the server to push up to `maxPushId` (client side; sends MAX_PUSH_ID). */
  allowPushes(maxPushId: number): void {
    if (maxPushId <= this.state.maxPushId) return;
    this.state.maxPushId = maxPushId;
    if (this.#control) this.#send(this.#control, encodeVarintFrame(FRAME.MAX_PUSH_ID, maxPushId));
  }

  /** Sends GOAWAY with `id` (server: first stream ID not processed; client: a push ID). */
  sendGoaway(id: number): void {
    this.#send(this.#control, encodeVarintFrame(FRAME.GOAWAY, id));
  }

  /** Sends CANCEL_PUSH for `pushId`. */
  sendCancelPush(pushId: number): void {
    this.#send(this.#control, encodeVarintFrame(FRAME.CANCEL_PUSH, pushId));
  }

  /**
   * Encodes `fields` for `streamId` and returns the HEADERS frame; encoder-stream instructions
   * it needs are queued on the QPACK encoder stream first.
   */
  encodeHeaders(streamId: number, fields: Field[]): Uint8Array {
    return encodeFrame(FRAME.HEADERS, this.encodeSection(streamId, fields));
  }

  /**
   * Checks `fields` against the peer's SETTINGS_MAX_FIELD_SECTION_SIZE (once known).
   *
   * @throws {H3Error} H3_EXCESSIVE_LOAD (stream) if the section is larger.
   */
  checkSectionSize(fields: Field[]): void {
    const limit = this.state.peerSettings?.maxFieldSectionSize ?? Infinity;
    if (limit === Infinity) return;
    let size = 0;
    for (const [n, v] of fields) size += n.length + v.length + 32;
    if (size > limit) {
      throw new H3Error(
        H3_ERROR.EXCESSIVE_LOAD,
        "stream",
        `field section of ${size} bytes exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE ${limit}`,
      );
    }
  }

  /**
   * Encodes a field section (for HEADERS or PUSH_PROMISE) and flushes encoder instructions.
   *
   * @throws {H3Error} H3_EXCESSIVE_LOAD (stream) if the fields exceed the peer's
   * SETTINGS_MAX_FIELD_SECTION_SIZE; nothing is encoded then.
   */
  encodeSection(streamId: number, fields: Field[]): Uint8Array {
    this.checkSectionSize(fields);
    const section = this.encoder.encodeFieldSection(streamId, fields);
    if (this.encoder.hasEncoderStreamBytes) {
      this.#send(this.#encoderStream, this.encoder.takeEncoderStreamBytes());
    }
    return section;
  }

  /**
   * Decodes a HEADERS payload of `streamId`, waiting if it references inserts that have not
   * arrived yet.
   *
   * @throws {H3Error} connection errors close the connection before the promise rejects.
   */
  decodeHeaders(streamId: number, payload: Uint8Array): Promise<Field[]> {
    let fields: Field[] | null;
    try {
      fields = this.decoder.decodeFieldSection(streamId, payload);
    } catch (e) {
      this.#flushDecoderSoon();
      if (e instanceof H3Error && e.scope === "connection") this.fail(e);
      return Promise.reject(e);
    }
    this.#flushDecoderSoon();
    if (fields) return Promise.resolve(fields);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.set(streamId, { resolve, reject }));
  }

  /**
   * Tells QPACK a request stream was abandoned: a blocked section is dropped and the peer's
   * encoder is told with Stream Cancellation.
   */
  abandonStream(streamId: number, headersDone: boolean): void {
    const w = this.#waiters.get(streamId);
    if (w) {
      this.#waiters.delete(streamId);
      w.reject(new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", "stream abandoned"));
    }
    if (!headersDone || w) {
      this.decoder.cancelStream(streamId);
      this.#flushDecoderSoon();
    }
  }

  /** Closes the connection with an HTTP/3 error code (default H3_NO_ERROR). Idempotent. */
  close(code: number = H3_ERROR.NO_ERROR, reason = ""): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.conn.close({ closeCode: code, reason });
    } catch {
      // already closed
    }
  }

  /** Ends the connection because of `e`: H3Errors send their code, anything else H3_INTERNAL_ERROR. */
  fail(e: unknown): void {
    if (this.#closing) return;
    const err = e instanceof H3Error ? e : new H3Error(H3_ERROR.INTERNAL_ERROR, "connection", String(e));
    log.debug(`connection error: ${err.message}`);
    this.#error ??= err;
    this.close(err.code, err.message.slice(0, 200));
    this.#rejectWaiters(err);
  }

  #onConnectionClosed(e: Error | undefined): void {
    this.#closing = true;
    if (e && !this.#error) this.#error = e;
    this.#rejectWaiters(this.#error ?? new Error("HTTP/3 connection closed"));
    this.#peerSettings.reject(this.#error ?? new Error("HTTP/3 connection closed before SETTINGS"));
    this.#closed.resolve();
  }

  #rejectWaiters(e: Error): void {
    for (const w of this.#waiters.values()) w.reject(e);
    this.#waiters.clear();
  }

  #send(writer: WritableStreamDefaultWriter<Uint8Array>, bytes: Uint8Array): void {
    writer.write(bytes).catch((e) => {
      if (!this.#closing) log.debug(`write on a critical stream failed: ${e}`);
    });
  }

  #flushDecoderSoon(): void {
    if (this.#decoderFlushQueued) return;
    this.#decoderFlushQueued = true;
    queueMicrotask(() => {
      this.#decoderFlushQueued = false;
      if (this.#closing || !this.decoder.hasDecoderStreamBytes) return;
      this.#send(this.#decoderStream, this.decoder.takeDecoderStreamBytes());
    });
  }

  #acceptUniStreams(): void {
    (async () => {
      for await (const rs of this.conn.incomingUnidirectionalStreams) {
        this.#handleUniStream(rs).catch((e) => this.#streamFailure(e));
      }
    })().catch((e) => {
      if (!this.#closing) log.debug(`accepting unidirectional streams failed: ${e}`);
    });
  }

  /** Client: the server may not open request streams; the first one ends the connection. */
  #refuseBidiStreams(): void {
    (async () => {
      for await (const bidi of this.conn.incomingBidirectionalStreams) {
        bidi.readable.cancel().catch(() => {});
        bidi.writable.abort().catch(() => {});
        this.state.onPeerBidiStream();
      }
    })().catch((e) => this.#streamFailure(e));
  }

  /** Handles an error from reading a peer stream: protocol errors close the connection. */
  #streamFailure(e: unknown): void {
    if (e instanceof H3Error) this.fail(e);
    else if (!this.#closing) log.debug(`peer stream failed: ${e}`);
  }

  async #handleUniStream(rs: ReadableStream<Uint8Array>): Promise<void> {
    // Read the ID first: it is unavailable once the stream has ended (Deno QUIC).
    const streamId = Number((rs as Deno.QuicReceiveStream).id);
    const src = new StreamSource(rs, { maxFramePayload: 1 << 16 });
    const type = await src.readVarint();
    if (type === null) return; // ended before its type: nothing to do
    const kind = this.state.onUniStream(type);
    switch (kind) {
      case "control":
        return await this.#readControl(src);
      case "encoder":
        return await this.#readEncoderStream(src);
      case "decoder":
        return await this.#readDecoderStream(src);
      case "push": {
        const pushId = await src.readVarint();
        if (pushId === null) return;
        this.state.onPushStream(pushId);
        if (this.#options.onPushStream) this.#options.onPushStream(pushId, src, streamId);
        else await src.cancel();
        return;
      }
      default:
        // Unknown or grease type: stop reading (RFC 9114 §6.2).
        await src.cancel();
    }
  }

  async #readControl(src: StreamSource): Promise<void> {
    for (;;) {
      const ev = await src.nextFrame();
      if (ev === null) return this.state.onCriticalStreamClosed("control");
      if (ev.kind === "header") {
        this.state.onControlFrameHeader(ev.type);
      } else if (ev.kind === "frame") {
        const cev = this.state.onControlFrame(ev.type, ev.payload);
        if (!cev) continue;
        if (cev.kind === "settings") {
          this.encoder.setPeerSettings({
            maxTableCapacity: cev.settings.qpackMaxTableCapacity,
            maxBlockedStreams: cev.settings.qpackBlockedStreams,
          });
          if (this.encoder.hasEncoderStreamBytes) {
            this.#send(this.#encoderStream, this.encoder.takeEncoderStreamBytes());
          }
          this.#peerSettings.resolve(cev.settings);
        } else if (cev.kind === "goaway") {
          this.#options.onGoaway?.(cev.id);
        }
        this.#options.onControlEvent?.(cev);
      }
    }
  }

  async #readEncoderStream(src: StreamSource): Promise<void> {
    for (;;) {
      const chunk = await src.readChunk();
      if (chunk === null) return this.state.onCriticalStreamClosed("encoder");
      const ready = this.decoder.feedEncoderStream(chunk);
      for (const id of ready) {
        const w = this.#waiters.get(id);
        this.#waiters.delete(id);
        try {
          const fields = this.decoder.resume(id);
          if (fields && w) w.resolve(fields);
        } catch (e) {
          w?.reject(e);
          throw e;
        }
      }
      this.#flushDecoderSoon();
    }
  }

  async #readDecoderStream(src: StreamSource): Promise<void> {
    for (;;) {
      const chunk = await src.readChunk();
      if (chunk === null) return this.state.onCriticalStreamClosed("decoder");
      this.encoder.feedDecoderStream(chunk);
    }
  }
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
