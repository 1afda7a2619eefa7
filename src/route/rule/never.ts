/**
 * Keys only a graphical client can evaluate (`package_name`, `wifi_ssid`, `wifi_bssid`,
 * `network_type`, `network_is_expensive`, `network_is_constrained`; spec sing-box.md §3.2): parsed,
 * never matching, as in sing-box on a platform without them.
 *
 * @module
 */
import type { RuleItem } from "./item.ts";

/** A key this build parses but cannot evaluate; it never matches. */
export class NeverItem implements RuleItem {
  constructor(readonly key: string) {}
  match(): boolean {
    return false;
  }
  toString(): string {
    return `${this.key}=<unsupported>`;
  }
}
