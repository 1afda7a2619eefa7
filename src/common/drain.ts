/**
 * The "silent treatment" for failed proxy handshakes: keep reading and discarding until the
 * peer gives up or a deadline passes, then close, so a prober learns nothing from timing or
 * replies (no error page, no early RST).
 *
 * @module
 */
import type { Stream } from "../adapter/types.ts";

/** Default time a bad connection is held open, ms. */
export const DRAIN_TIMEOUT_MS = 30_000;

/** Reads and discards until EOF, error or `ms`, then closes `s`. Never throws. */
export async function drainSilently(s: Stream, ms = DRAIN_TIMEOUT_MS): Promise<void> {
  const timer = setTimeout(() => {
    try {
      s.close();
    } catch { /* closed */ }
  }, ms);
  const buf = new Uint8Array(16 * 1024);
  try {
    while (await s.read(buf) !== null) { /* discard */ }
  } catch {
    /* reset or closed by the timer */
  } finally {
    clearTimeout(timer);
    try {
      s.close();
    } catch { /* closed */ }
  }
}
