/**
 * A {@linkcode Stream} wrapper that adds the bytes it reads and writes to the `bytes_in` /
 * `bytes_out` daemon counters of paniq.md §9.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import type { PaniqMetrics } from "../../protocol/paniq/metrics.ts";

/** Which counter each direction feeds. */
export interface CountingDirections {
  /** Counter incremented by bytes read from the inner stream. */
  read: "bytes_in" | "bytes_out";
  /** Counter incremented by bytes written to the inner stream. */
  write: "bytes_in" | "bytes_out";
}

/** Counts the bytes of one stream into a {@linkcode PaniqMetrics}. */
export class CountingStream implements Stream {
  #onClose: (() => void) | undefined;

  /**
   * @param inner the stream to count
   * @param m the metrics to add to
   * @param dirs counter per direction (default: reads are `bytes_in`, writes `bytes_out`)
   * @param onClose called once, on the first `close()` (e.g. to lower the `active` gauge)
   */
  constructor(
    readonly inner: Stream,
    readonly m: PaniqMetrics,
    readonly dirs: CountingDirections = { read: "bytes_in", write: "bytes_out" },
    onClose?: () => void,
  ) {
    this.#onClose = onClose;
  }

  async read(p: Uint8Array): Promise<number | null> {
    const n = await this.inner.read(p);
    if (n) this.m[this.dirs.read] += n;
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    const n = await this.inner.write(p);
    this.m[this.dirs.write] += n;
    return n;
  }

  closeWrite(): Promise<void> {
    return this.inner.closeWrite();
  }

  close(): void {
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
    try {
      this.inner.close();
    } catch { /* closed */ }
  }
}
