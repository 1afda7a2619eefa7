/**
 * The connection-level rules of HTTP/3 (RFC 9114 §6.2, §7.2, §5.2, §4.6), sans-I/O: what a
 * peer-initiated unidirectional stream is, which frames may appear on the control stream and on
 * request streams, SETTINGS, GOAWAY, MAX_PUSH_ID and CANCEL_PUSH bookkeeping. Each method throws
 * the {@linkcode H3Error} the RFC prescribes; the session closes the connection with its code.
 *
 * @module
 */
import { connectionError, H3_ERROR } from "./errors.ts";
import { FRAME, frameName, parseSettingsPayload, parseVarintPayload } from "./frames.ts";
import { type CancelAction, ServerPushes } from "./push_state.ts";
import { type H3Settings, parseSettings } from "./settings.ts";

/** Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). */
export const STREAM_TYPE = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/** Which end of the connection this is. */
export type Role = "client" | "server";

/** What a peer-initiated unidirectional stream carries. */
export type UniStreamKind = "control" | "encoder" | "decoder" | "push" | "unknown";

/** Something the peer's control stream told us. */
export type ControlEvent =
  | { kind: "settings"; settings: H3Settings }
  | { kind: "goaway"; id: number }
  | { kind: "max-push-id"; id: number }
  /** `action` (server only): what the server must do about the cancelled push. */
  | { kind: "cancel-push"; id: number; action?: CancelAction };

/** Frames that only belong on the control stream. */
const CONTROL_ONLY: ReadonlySet<number> = new Set([
  FRAME.SETTINGS,
  FRAME.GOAWAY,
  FRAME.MAX_PUSH_ID,
  FRAME.CANCEL_PUSH,
]);

/** HTTP/3 connection rules for one endpoint. */
export class H3ConnectionState {
  readonly role: Role;
  /** The peer's settings, once its SETTINGS frame arrived. */
  peerSettings: H3Settings | undefined;
  /** The lowest ID from a GOAWAY received so far (stream ID from a server, push ID from a client). */
  goawayReceived: number | undefined;
  /**
   * Server: the largest push ID the client allows (from MAX_PUSH_ID), -1 before any.
   * Client: the largest push ID this client has allowed.
   */
  maxPushId = -1;
  /** Server: the pushes this server promised (IDs, phases). */
  readonly pushes = new ServerPushes();
  readonly #peerStreams = new Set<UniStreamKind>();
  readonly #pushStreams = new Set<number>();
  #controlFrames = 0;

  constructor(role: Role) {
    this.role = role;
  }

  /**
   * Classifies a peer-initiated unidirectional stream by its type byte(s).
   *
   * @throws {H3Error} H3_STREAM_CREATION_ERROR for a second control, encoder or decoder stream, or a
   * push stream sent to a server.
   */
  onUniStream(type: number): UniStreamKind {
    let kind: UniStreamKind;
    switch (type) {
      case STREAM_TYPE.CONTROL:
        kind = "control";
        break;
      case STREAM_TYPE.QPACK_ENCODER:
        kind = "encoder";
        break;
      case STREAM_TYPE.QPACK_DECODER:
        kind = "decoder";
        break;
      case STREAM_TYPE.PUSH:
        if (this.role === "server") {
          throw connectionError(H3_ERROR.STREAM_CREATION_ERROR, "client opened a push stream");
        }
        return "push";
      default:
        return "unknown";
    }
    if (this.#peerStreams.has(kind)) {
      throw connectionError(H3_ERROR.STREAM_CREATION_ERROR, `peer opened a second ${kind} stream`);
    }
    this.#peerStreams.add(kind);
    return kind;
  }

  /**
   * Checks a bidirectional stream the peer opened.
   *
   * @throws {H3Error} H3_STREAM_CREATION_ERROR on a client: servers may not open bidirectional
   * streams without an extension (RFC 9114 §6.1).
   */
  onPeerBidiStream(): void {
    if (this.role === "client") {
      throw connectionError(H3_ERROR.STREAM_CREATION_ERROR, "server opened a bidirectional stream");
    }
  }

  /**
   * Checks a push stream's push ID (client side).
   *
   * @throws {H3Error} H3_ID_ERROR for a push ID above MAX_PUSH_ID or one already used.
   */
  onPushStream(pushId: number): void {
    if (pushId > this.maxPushId) {
      throw connectionError(H3_ERROR.ID_ERROR, `push ID ${pushId} exceeds MAX_PUSH_ID ${this.maxPushId}`);
    }
    if (this.#pushStreams.has(pushId)) {
      throw connectionError(H3_ERROR.ID_ERROR, `push ID ${pushId} used twice`);
    }
    this.#pushStreams.add(pushId);
  }

  /**
   * Checks a frame header on the peer's control stream (before its payload arrives).
   *
   * @throws {H3Error} H3_MISSING_SETTINGS if the first frame is not SETTINGS; H3_FRAME_UNEXPECTED for
   * a second SETTINGS, a DATA, HEADERS or PUSH_PROMISE frame, or MAX_PUSH_ID sent by a server.
   */
  onControlFrameHeader(type: number): void {
    const first = this.#controlFrames++ === 0;
    if (first && type !== FRAME.SETTINGS) {
      throw connectionError(H3_ERROR.MISSING_SETTINGS, `first control frame is ${frameName(type)}`);
    }
    if (!first && type === FRAME.SETTINGS) {
      throw connectionError(H3_ERROR.FRAME_UNEXPECTED, "second SETTINGS frame on the control stream");
    }
    if (type === FRAME.DATA || type === FRAME.HEADERS || type === FRAME.PUSH_PROMISE) {
      throw connectionError(H3_ERROR.FRAME_UNEXPECTED, `${frameName(type)} on the control stream`);
    }
    if (type === FRAME.MAX_PUSH_ID && this.role === "client") {
      throw connectionError(H3_ERROR.FRAME_UNEXPECTED, "MAX_PUSH_ID received by a client");
    }
  }

  /**
   * Applies a complete control-stream frame and says what it meant.
   *
   * @throws {H3Error} H3_SETTINGS_ERROR / H3_FRAME_ERROR for bad payloads; H3_ID_ERROR for a GOAWAY
   * ID that grows or is not a client bidirectional stream ID, a shrinking MAX_PUSH_ID, a
   * CANCEL_PUSH beyond MAX_PUSH_ID, or (server) a CANCEL_PUSH for a push ID never promised.
   */
  onControlFrame(type: number, payload: Uint8Array): ControlEvent | undefined {
    switch (type) {
      case FRAME.SETTINGS: {
        const settings = parseSettings(parseSettingsPayload(payload));
        this.peerSettings = settings;
        return { kind: "settings", settings };
      }
      case FRAME.GOAWAY: {
        const id = parseVarintPayload(type, payload);
        if (this.role === "client" && id % 4 !== 0) {
          throw connectionError(
            H3_ERROR.ID_ERROR,
            `GOAWAY stream ID ${id} is not a client bidirectional stream`,
          );
        }
        if (this.goawayReceived !== undefined && id > this.goawayReceived) {
          throw connectionError(H3_ERROR.ID_ERROR, `GOAWAY ID grew from ${this.goawayReceived} to ${id}`);
        }
        this.goawayReceived = id;
        return { kind: "goaway", id };
      }
      case FRAME.MAX_PUSH_ID: {
        const id = parseVarintPayload(type, payload);
        if (id < this.maxPushId) {
          throw connectionError(H3_ERROR.ID_ERROR, `MAX_PUSH_ID shrank from ${this.maxPushId} to ${id}`);
        }
        this.maxPushId = id;
        return { kind: "max-push-id", id };
      }
      case FRAME.CANCEL_PUSH: {
        const id = parseVarintPayload(type, payload);
        if (id > this.maxPushId) {
          throw connectionError(
            H3_ERROR.ID_ERROR,
            `CANCEL_PUSH for push ID ${id} above MAX_PUSH_ID ${this.maxPushId}`,
          );
        }
        // A client may name a push whose PUSH_PROMISE it has not seen yet (reordering); a server
        // must have promised it (RFC 9114 §7.2.3).
        if (this.role === "server") return { kind: "cancel-push", id, action: this.pushes.cancel(id) };
        return { kind: "cancel-push", id };
      }
    }
    return undefined;
  }

  /**
   * Checks a frame header on a request (or push) stream.
   *
   * @throws {H3Error} H3_FRAME_UNEXPECTED for control-stream frames, and for PUSH_PROMISE sent to a
   * server or on a push stream.
   */
  onRequestFrameHeader(type: number, onPushStream = false): void {
    if (CONTROL_ONLY.has(type)) {
      throw connectionError(H3_ERROR.FRAME_UNEXPECTED, `${frameName(type)} on a request stream`);
    }
    if (type === FRAME.PUSH_PROMISE && (this.role === "server" || onPushStream)) {
      throw connectionError(
        H3_ERROR.FRAME_UNEXPECTED,
        `PUSH_PROMISE received by a ${onPushStream ? "push stream" : "server"}`,
      );
    }
  }

  /**
   * Reports the end of a critical stream (control, QPACK encoder or decoder).
   *
   * @throws {H3Error} always H3_CLOSED_CRITICAL_STREAM.
   */
  onCriticalStreamClosed(kind: UniStreamKind): never {
    throw connectionError(H3_ERROR.CLOSED_CRITICAL_STREAM, `peer closed its ${kind} stream`);
  }
}
