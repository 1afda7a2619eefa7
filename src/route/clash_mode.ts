/**
 * The Clash API's mode (`Rule`, `Global`, `Direct` or any name a config uses), shared by the
 * `clash_mode` rule items of route and DNS rules and changed through `PATCH /configs`
 * (spec sing-box.md §5.1). Without a `clash_api` section there is no mode and `clash_mode`
 * items never match, as in sing-box.
 *
 * @module
 */

/** Current Clash mode with change listeners. */
export class ClashModeState {
  #mode: string | undefined;
  readonly #listeners = new Set<(mode: string) => void>();

  /** @param initial the starting mode (`experimental.clash_api.default_mode`), or undefined without a Clash API */
  constructor(initial?: string) {
    this.#mode = initial;
  }

  /** The current mode, or undefined when no Clash API is configured. */
  get mode(): string | undefined {
    return this.#mode;
  }

  /** True when a mode is set and equals `mode` ignoring case. */
  is(mode: string): boolean {
    return this.#mode !== undefined && this.#mode.toLowerCase() === mode.toLowerCase();
  }

  /** Sets the mode and notifies listeners when it changed. */
  set(mode: string): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    for (const l of this.#listeners) l(mode);
  }

  /** Registers a listener called with the new mode; returns a function removing it. */
  onChange(listener: (mode: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
