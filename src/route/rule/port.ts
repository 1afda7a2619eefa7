/**
 * `port`, `port_range`, `source_port`, `source_port_range`. Ranges are `a:b`, `:b` or `a:`.
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

/**
 * Parses `a:b`, `:b`, `a:` into inclusive bounds.
 * @throws {ConfigError} If a bound is not 0..65535 or start > end
 */
export function parsePortRange(text: string, path: string): [number, number] {
  const [a, b] = text.split(":");
  const lo = a === "" ? 0 : Number(a);
  const hi = b === "" ? 65535 : Number(b);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535 || lo > hi) {
    throw new ConfigError(path, `invalid port range "${text}"`);
  }
  return [lo, hi];
}

/** Matches a port list and/or port ranges on the destination (or source). */
export class PortItem implements RuleItem {
  #ports: Set<number>;
  #ranges: [number, number][];
  constructor(readonly source: boolean, readonly ports: number[], readonly ranges: string[], path: string) {
    this.#ports = new Set(ports);
    this.#ranges = ranges.map((r, i) => parsePortRange(r, `${path}[${i}]`));
  }
  match(ctx: MatchContext): boolean {
    const p = this.source ? ctx.metadata.source.port : ctx.metadata.destination.port;
    return this.#ports.has(p) || this.#ranges.some(([lo, hi]) => p >= lo && p <= hi);
  }
  toString(): string {
    const key = this.source ? "source_port" : "port";
    const parts: string[] = [];
    if (this.ports.length) parts.push(`${key}=${formatList(this.ports)}`);
    if (this.ranges.length) parts.push(`${key}_range=${formatList(this.ranges)}`);
    return parts.join(" ");
  }
}
