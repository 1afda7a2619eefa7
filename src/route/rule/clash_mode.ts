/**
 * `clash_mode` (sing-box `rule_item_clash_mode.go`): the current Clash API mode equals the value,
 * ignoring case. Without a Clash API there is no mode and the item never matches.
 *
 * @module
 */
import type { RuleItem } from "./item.ts";

/** `clash_mode`. */
export class ClashModeItem implements RuleItem {
  /** @param current reads the current mode (undefined: no Clash API) */
  constructor(readonly mode: string, readonly current: () => string | undefined) {}
  match(): boolean {
    const m = this.current();
    return m !== undefined && m.toLowerCase() === this.mode.toLowerCase();
  }
  toString(): string {
    return `clash_mode=${this.mode}`;
  }
}
