/**
 * HTTP/2 liveness for the `http` and `grpc` transports (sing-box `idle_timeout`,
 * `ping_timeout`, `permit_without_stream`; Go `http2.Transport.ReadIdleTimeout`/`PingTimeout`
 * and `http2.Server.IdleTimeout`, grpc-go keepalive).
 *
 * - Client: when nothing was read for `idle_timeout`, send a PING (RFC 9113 §6.7); without an
 *   acknowledgement within `ping_timeout` the connection is dead and is closed. With
 *   `permitWithoutStream` false (grpc), no PING is sent while no stream is open.
 * - Server: after `idle_timeout` without an open stream, close the connection gracefully
 *   (GOAWAY).
 *
 * The decisions are pure functions of a state record and the time ({@linkcode nextClientStep},
 * {@linkcode nextServerStep}); {@linkcode H2KeepAlive} drives them on a `node:http2` session.
 *
 * @module
 */
import type http2 from "node:http2";

/** Go's default `PingTimeout` when `ping_timeout` is unset, ms. */
export const DEFAULT_PING_TIMEOUT_MS = 15_000;

/** Client liveness settings. */
export interface ClientKeepAliveConfig {
  /** Read silence before a PING, ms (`idle_timeout`); 0 turns pings off. */
  idleMs: number;
  /** Time to wait for the PING acknowledgement, ms (`ping_timeout`). */
  pingTimeoutMs: number;
  /** Ping even with no open stream (`permit_without_stream`; always true for `http`). */
  permitWithoutStream: boolean;
}

/** What the client driver knows. Times are ms on one monotonic clock. */
export interface ClientKeepAliveState {
  /** When bytes last arrived. */
  lastReadMs: number;
  /** When the unacknowledged PING went out, or `null`. */
  pingSentMs: number | null;
  /** Open streams. */
  streams: number;
}

/** The next thing to do: send a PING, close the connection, or check again after `ms`. */
export type KeepAliveStep = { kind: "ping" } | { kind: "close" } | { kind: "wait"; ms: number };

/** Client decision at `now`. */
export function nextClientStep(
  c: ClientKeepAliveConfig,
  s: ClientKeepAliveState,
  now: number,
): KeepAliveStep {
  if (s.pingSentMs !== null) {
    const left = s.pingSentMs + c.pingTimeoutMs - now;
    return left <= 0 ? { kind: "close" } : { kind: "wait", ms: left };
  }
  if (!c.permitWithoutStream && s.streams === 0) return { kind: "wait", ms: c.idleMs };
  const left = s.lastReadMs + c.idleMs - now;
  return left <= 0 ? { kind: "ping" } : { kind: "wait", ms: left };
}

/** Server decision at `now`: `idleSinceMs` is when the last stream closed (or the connection opened). */
export function nextServerStep(
  idleMs: number,
  streams: number,
  idleSinceMs: number,
  now: number,
): KeepAliveStep {
  if (streams > 0) return { kind: "wait", ms: idleMs };
  const left = idleSinceMs + idleMs - now;
  return left <= 0 ? { kind: "close" } : { kind: "wait", ms: left };
}

/** Runs the client or server steps on one session with a single timer, cleared when it closes. */
export class H2KeepAlive {
  #session: http2.Http2Session;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #streams = 0;
  #idleSince = performance.now();
  #pingSent: number | null = null;
  #lastRead: () => number;
  #step: () => KeepAliveStep;

  /**
   * `lastRead` reports when bytes last arrived (client). Pass `client` for PINGs, or an idle
   * timeout for the server.
   */
  constructor(
    session: http2.Http2Session,
    o: { client: ClientKeepAliveConfig; lastRead: () => number } | { serverIdleMs: number },
  ) {
    this.#session = session;
    if ("client" in o) {
      this.#lastRead = o.lastRead;
      this.#step = () =>
        nextClientStep(o.client, {
          lastReadMs: this.#lastRead(),
          pingSentMs: this.#pingSent,
          streams: this.#streams,
        }, performance.now());
    } else {
      this.#lastRead = () => 0;
      this.#step = () => nextServerStep(o.serverIdleMs, this.#streams, this.#idleSince, performance.now());
    }
    session.once("close", () => this.#stop());
    this.#arm(0);
  }

  /** Call when a stream opens on the session. */
  onStreamOpened(): void {
    this.#streams++;
  }

  /** Call when a stream of the session closes. */
  onStreamClosed(): void {
    if (--this.#streams === 0) this.#idleSince = performance.now();
  }

  #arm(ms: number): void {
    if (this.#session.destroyed || this.#session.closed) return;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, ms));
  }

  #run(): void {
    this.#timer = null;
    if (this.#session.destroyed || this.#session.closed) return;
    const step = this.#step();
    if (step.kind === "wait") return this.#arm(step.ms);
    if (step.kind === "close") {
      // Client: the peer is gone, drop at once. Server: idle, say GOAWAY and let streams finish.
      if (this.#pingSent !== null) this.#session.destroy(new Error("HTTP/2 PING timed out"));
      else this.#session.close();
      return;
    }
    this.#pingSent = performance.now();
    try {
      this.#session.ping((err) => {
        if (err) return;
        this.#pingSent = null;
      });
    } catch {
      this.#session.destroy();
      return;
    }
    this.#arm(0);
  }

  #stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
