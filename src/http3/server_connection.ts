/**
 * Server side of one HTTP/3 connection: in-flight request tracking, GOAWAY draining, push IDs,
 * and server push (RFC 9114 §4.6).
 *
 * @module
 */
import { getLogger } from "../common/log.ts";
import { STREAM_TYPE } from "./connection_state.ts";
import { encodePushPromiseFrame } from "./frames.ts";
import { requestFields } from "./message.ts";
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
  #nextPushId = 0;
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

  /** Reserves a push ID, or -1 if the client allowed no more. */
  nextPushId(): number {
    if (this.#nextPushId > this.session.state.maxPushId || this.#goaway !== undefined) return -1;
    return this.#nextPushId++;
  }
}

/** Starts a server push: PUSH_PROMISE on the request stream, then the response on a push stream. */
export async function push(
  conn: ServerConnection,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  streamId: number,
  url: URL,
  response: Response,
  init?: { headers?: HeadersInit },
): Promise<boolean> {
  // MAX_PUSH_ID follows SETTINGS on the client's control stream, which may trail the request.
  await conn.session.peerSettings.catch(() => {});
  const pushId = conn.nextPushId();
  if (pushId < 0) return false;
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
  conn.track((async () => {
    let w: WritableStreamDefaultWriter<Uint8Array> | undefined;
    try {
      const stream = await session.conn.createUnidirectionalStream({ waitUntilAvailable: true });
      const pushStreamId = Number(stream.id);
      w = stream.getWriter();
      await w.write(concat([varintBytes(STREAM_TYPE.PUSH), varintBytes(pushId)]));
      await writeResponse(session, w, pushStreamId, response, "GET");
    } catch (e) {
      log.debug(`push ${pushId} failed: ${e}`);
      await w?.abort(e).catch(() => {});
      session.sendCancelPush(pushId);
    }
  })());
  return true;
}
