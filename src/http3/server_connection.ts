/**
 * Server side of one HTTP/3 connection: in-flight request tracking, GOAWAY draining, push IDs,
 * and server push (RFC 9114 §4.6).
 *
 * @module
 */
import { getLogger } from "../common/log.ts";
import { abortable } from "./client.ts";
import { STREAM_TYPE } from "./connection_state.ts";
import { H3_ERROR, H3Error } from "./errors.ts";
import { encodePushPromiseFrame } from "./frames.ts";
import { requestFields } from "./message.ts";
import type { CancelAction } from "./push_state.ts";
import { writeResponse } from "./message_io.ts";
import { concat, type H3Session } from "./session.ts";
import { varintBytes } from "./varint.ts";

const log = getLogger("http3", "server");

/** State of one accepted connection. */
export class ServerConnection {
  readonly session: H3Session;
  readonly remoteAddr: Deno.NetAddr;
  readonly #active = new Set<Promise<void>>();
  /** Highest request stream ID accepted. */
  #lastStreamId = -4;
  /** GOAWAY ID sent, if any: streams at or above it are rejected. */
  #goaway: number | undefined;
  readonly #pushAborts = new Map<number, AbortController>();
  readonly #idle = Promise.withResolvers<void>();
  /** Abort controllers of in-flight requests, aborted when the connection closes. */
  readonly requestSignals = new Set<AbortController>();

  constructor(session: H3Session, remoteAddr: Deno.NetAddr) {
    this.session = session;
    this.remoteAddr = remoteAddr;
    session.closed.then(() => {
      const reason = session.error ?? new Error("HTTP/3 connection closed");
      for (const c of this.requestSignals) c.abort(reason);
    });
  }

  get activeRequests(): number {
    return this.#active.size;
  }

  track(p: Promise<void>): void {
    this.#active.add(p);
    p.finally(() => {
      this.#active.delete(p);
      if (this.#active.size === 0 && this.#goaway !== undefined) this.#idle.resolve();
    });
  }

  /** Whether a new request stream is accepted (false after GOAWAY for IDs at or above it). */
  accept(streamId: number): boolean {
    if (this.#goaway !== undefined && streamId >= this.#goaway) return false;
    if (streamId > this.#lastStreamId) this.#lastStreamId = streamId;
    return true;
  }

  /** Sends GOAWAY and resolves when in-flight requests finish. */
  drain(): Promise<void> {
    if (this.#goaway === undefined) {
      this.#goaway = this.#lastStreamId + 4;
      this.session.sendGoaway(this.#goaway);
      if (this.#active.size === 0) this.#idle.resolve();
    }
    return this.#idle.promise;
  }

  /** Reserves a push ID, or -1 if the client allowed no more (or GOAWAY was sent). */
  nextPushId(): number {
    if (this.#goaway !== undefined) return -1;
    return this.session.state.pushes.reserve(this.session.state.maxPushId);
  }

  /** Registers the abort controller of a push in progress, until `pushId` ends. */
  trackPush(pushId: number, abort: AbortController): void {
    this.#pushAborts.set(pushId, abort);
  }

  /** Forgets a push that ended. */
  endPush(pushId: number): void {
    this.#pushAborts.delete(pushId);
    this.session.state.pushes.end(pushId);
  }

  /**
   * Acts on the client's CANCEL_PUSH (RFC 9114 §7.2.3): a push not started is never opened, an
   * open push stream is abandoned. Deno's QUIC cannot reset a stream with H3_REQUEST_CANCELLED,
   * so an abandoned push stream ends early instead; the client cancelled it and discards it.
   */
  onCancelPush(pushId: number, action: CancelAction): void {
    if (action === "none") return;
    log.debug(`client cancelled push ${pushId} (${action === "drop" ? "not started" : "stream open"})`);
    this.#pushAborts.get(pushId)?.abort(
      new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", `client cancelled push ${pushId}`),
    );
  }
}

/**
 * Starts a server push: PUSH_PROMISE on the request stream, then, once `response` is ready, the
 * response on a push stream. A CANCEL_PUSH from the client stops it at any point.
 */
export async function push(
  conn: ServerConnection,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  streamId: number,
  url: URL,
  response: Response | Promise<Response>,
  init?: { headers?: HeadersInit },
): Promise<boolean> {
  // MAX_PUSH_ID follows SETTINGS on the client's control stream, which may trail the request.
  await conn.session.peerSettings.catch(() => {});
  const pushId = conn.nextPushId();
  if (pushId < 0) {
    Promise.resolve(response).then((r) => r.body?.cancel()).catch(() => {});
    return false;
  }
  const session = conn.session;
  const fields = requestFields(
    "GET",
    "https",
    url.host,
    url.pathname + url.search,
    new Headers(init?.headers),
  );
  const section = session.encodeSection(streamId, fields);
  writer.write(encodePushPromiseFrame(pushId, section)).catch(() => {});
  const abort = new AbortController();
  conn.trackPush(pushId, abort);
  conn.track((async () => {
    let w: WritableStreamDefaultWriter<Uint8Array> | undefined;
    let res: Response | undefined;
    const stop = () => w?.abort(abort.signal.reason).catch(() => {});
    abort.signal.addEventListener("abort", stop, { once: true });
    try {
      res = await abortable(Promise.resolve(response), abort.signal);
      if (!session.state.pushes.start(pushId)) {
        throw new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", `push ${pushId} was cancelled`);
      }
      const stream = await session.conn.createUnidirectionalStream({ waitUntilAvailable: true });
      w = stream.getWriter();
      abort.signal.throwIfAborted();
      const pushStreamId = Number(stream.id);
      await w.write(concat([varintBytes(STREAM_TYPE.PUSH), varintBytes(pushId)]));
      await writeResponse(session, w, pushStreamId, res, "GET", abort.signal);
    } catch (e) {
      // The body will not be sent: release it (also when the response arrives after a cancel).
      if (res) {
        if (!res.bodyUsed) res.body?.cancel(e).catch(() => {});
      } else {
        Promise.resolve(response).then((r) => r.body?.cancel(e)).catch(() => {});
      }
      await w?.abort(e).catch(() => {});
      if (!abort.signal.aborted && session.state.pushes.phase(pushId) !== "cancelled") {
        log.debug(`push ${pushId} failed: ${e}`);
        // The promise will not be fulfilled: tell the client (RFC 9114 §7.2.3).
        session.sendCancelPush(pushId);
      }
    } finally {
      abort.signal.removeEventListener("abort", stop);
      conn.endPush(pushId);
    }
  })());
  return true;
}
