/**
 * In-memory URL-test results (sing-box `urltest.HistoryStorage`). One instance is shared by
 * every urltest group and the Clash API, so a delay measured by one shows up in all of them.
 *
 * @module
 */
import type { UrlTestHistory, UrlTestHistoryStorage } from "../../adapter/types.ts";

/** URL-test results keyed by real outbound tag. */
export class MemoryUrlTestHistory implements UrlTestHistoryStorage {
  readonly #map = new Map<string, UrlTestHistory>();

  load(tag: string): UrlTestHistory | undefined {
    return this.#map.get(tag);
  }

  store(tag: string, history: UrlTestHistory): void {
    this.#map.set(tag, history);
  }

  delete(tag: string): void {
    this.#map.delete(tag);
  }
}
