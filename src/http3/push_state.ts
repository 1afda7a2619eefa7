/**
 * The server's side of server push (RFC 9114 §4.6, §7.2.3, §7.2.7), sans-I/O: push IDs handed out
 * in order within the client's MAX_PUSH_ID, each push's phase, and what a client's CANCEL_PUSH
 * means for it.
 *
 * @module
 */
import { connectionError, H3_ERROR } from "./errors.ts";

/**
 * Where one push is: `promised` (PUSH_PROMISE sent, no push stream yet), `streaming` (push stream
 * open), `cancelled` (the client cancelled it before its stream opened).
 */
export type PushPhase = "promised" | "streaming" | "cancelled";

/**
 * What the server must do about a client's CANCEL_PUSH (RFC 9114 §7.2.3): `drop` the push before
 * its stream exists (never open it), `abort` its open push stream, or nothing (`none`) when the
 * push has already ended or was cancelled before.
 */
export type CancelAction = "drop" | "abort" | "none";

/** Push IDs and push phases of one server connection. */
export class ServerPushes {
  readonly #phase = new Map<number, PushPhase>();
  #next = 0;

  /** Number of push IDs promised so far (the next ID to use). */
  get promisedCount(): number {
    return this.#next;
  }

  /** The phase of `pushId`, or undefined once it ended (or if it was never promised). */
  phase(pushId: number): PushPhase | undefined {
    return this.#phase.get(pushId);
  }

  /**
   * Takes the next push ID if the client's MAX_PUSH_ID (`maxPushId`, -1 before any) allows it.
   * The caller must send the PUSH_PROMISE for it.
   *
   * @returns the push ID, or -1 when the client allows no further push.
   */
  reserve(maxPushId: number): number {
    if (this.#next > maxPushId) return -1;
    const id = this.#next++;
    this.#phase.set(id, "promised");
    return id;
  }

  /**
   * Marks a promised push as about to open its push stream.
   *
   * @returns false if the client cancelled it meanwhile: then no stream may be opened.
   */
  start(pushId: number): boolean {
    if (this.#phase.get(pushId) !== "promised") return false;
    this.#phase.set(pushId, "streaming");
    return true;
  }

  /** Forgets a push whose response was sent, failed or was dropped. */
  end(pushId: number): void {
    this.#phase.delete(pushId);
  }

  /**
   * Applies a client's CANCEL_PUSH for `pushId` (already checked against MAX_PUSH_ID).
   *
   * @throws {H3Error} H3_ID_ERROR (connection) for a push ID no PUSH_PROMISE has named yet
   * (RFC 9114 §7.2.3).
   */
  cancel(pushId: number): CancelAction {
    if (pushId >= this.#next) {
      throw connectionError(H3_ERROR.ID_ERROR, `CANCEL_PUSH for push ID ${pushId}, which was never promised`);
    }
    switch (this.#phase.get(pushId)) {
      case "promised":
        this.#phase.set(pushId, "cancelled");
        return "drop";
      case "streaming":
        this.#phase.delete(pushId);
        return "abort";
      default:
        return "none";
    }
  }
}
