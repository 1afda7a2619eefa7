/**
 * The Clash mode list and mode switching (sing-box `CalculateClashModeList` and
 * `Server.SetMode`). The list holds every `clash_mode` value used by route and DNS rules
 * (logical rules included): custom modes sorted, then `Rule`, `Global`, `Direct` in that order;
 * the default mode is put first when missing.
 *
 * @module
 */
import type { Logger } from "../common/log.ts";
import type { ClashModeState } from "../route/clash_mode.ts";

const PREDEFINED = ["Rule", "Global", "Direct"];

type RuleLike = { clash_mode?: string; type?: string; rules?: readonly unknown[] };

function collect(rules: readonly unknown[] | undefined, out: string[]): void {
  for (const r of rules ?? []) {
    if (typeof r !== "object" || r === null) continue;
    const rule = r as RuleLike;
    if (rule.type === "logical") collect(rule.rules, out);
    else if (rule.clash_mode) out.push(rule.clash_mode);
  }
}

/**
 * Modes used by `routeRules` and `dnsRules`, ordered as sing-box orders them.
 * @example Usage
 * ```ts ignore
 * clashModeList([{ clash_mode: "Global" }, { clash_mode: "Proxy" }], []); // ["Proxy", "Global"]
 * ```
 */
export function clashModeList(routeRules?: readonly unknown[], dnsRules?: readonly unknown[]): string[] {
  const all: string[] = [];
  collect(routeRules, all);
  collect(dnsRules, all);
  const used = new Set(all);
  const custom = [...used].filter((m) => !PREDEFINED.includes(m)).sort();
  return [...custom, ...PREDEFINED.filter((m) => used.has(m))];
}

/** What happens when the mode changes. */
export interface ModeHooks {
  /** Clears the DNS cache (answers may depend on `clash_mode` DNS rules). */
  clearDnsCache?(): void;
  /** Persists the mode (`cache_file`). */
  storeMode?(mode: string): void;
  logger?: Logger;
}

/** The mode list plus the shared mode state, with sing-box's switching rules. */
export class ModeController {
  /** Modes a client may switch to; the default mode is always in it. */
  readonly modes: readonly string[];
  readonly state: ClashModeState;
  #hooks: ModeHooks;

  /**
   * @param state the shared mode (its current value is the default mode)
   * @param used modes from {@linkcode clashModeList}
   */
  constructor(state: ClashModeState, used: readonly string[], hooks: ModeHooks = {}) {
    this.state = state;
    const def = state.mode || "Rule";
    if (state.mode !== def) state.set(def);
    this.modes = used.includes(def) ? used : [def, ...used];
    this.#hooks = hooks;
  }

  /** The current mode. */
  get mode(): string {
    return this.state.mode ?? this.modes[0]!;
  }

  /** The listed mode equal to `mode` ignoring case, or undefined. */
  find(mode: string): string | undefined {
    return this.modes.includes(mode) ? mode : this.modes.find((m) => m.toLowerCase() === mode.toLowerCase());
  }

  /**
   * Switches to `mode` (matched ignoring case). Unknown modes are ignored, as in sing-box.
   * @returns true when the mode is listed (changed or already current)
   */
  set(mode: string): boolean {
    const found = this.find(mode);
    if (found === undefined) return false;
    if (found === this.state.mode) return true;
    this.state.set(found);
    this.#hooks.clearDnsCache?.();
    this.#hooks.storeMode?.(found);
    this.#hooks.logger?.info(`updated mode: ${found}`);
    return true;
  }

  /** Applies a stored mode at start when it is still listed (without storing it again). */
  restore(mode: string | undefined): void {
    const found = mode === undefined ? undefined : this.find(mode);
    if (found !== undefined) this.state.set(found);
  }
}
