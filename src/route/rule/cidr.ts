/**
 * `ip_cidr` (destination) and `source_ip_cidr`: the address lies in one of the prefixes.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import { ConfigError } from "../../common/errors.ts";
import type { MatchContext, RuleItem } from "./item.ts";
import { formatList } from "./item.ts";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses CIDR prefixes; a bare address is a /32 or /128.
 * @throws {ConfigError} If one is not a valid prefix (path names its index)
 */
export function parseCidrs(cidrs: string[], path: string): Range[] {
  return cidrs.map((c, i) => {
    try {
      if (!c.includes("/")) {
        const a = ipaddr.parse(c);
        return [a, a.kind() === "ipv4" ? 32 : 128] as Range;
      }
      return ipaddr.parseCIDR(c) as Range;
    } catch {
      throw new ConfigError(`${path}[${i}]`, `invalid CIDR prefix "${c}"`);
    }
  });
}

/** Reports whether `ip` is in any of `ranges`. */
export function inRanges(ip: string, ranges: readonly Range[]): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ip);
  } catch {
    return false;
  }
  if (a.kind() === "ipv6" && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  for (const r of ranges) {
    if (r[0].kind() === a.kind() && a.match(r)) return true;
  }
  return false;
}

/** Matches the destination (or source) IP against prefixes. */
export class CidrItem implements RuleItem {
  #ranges: Range[];
  constructor(readonly cidrs: string[], readonly source: boolean, path: string) {
    this.#ranges = parseCidrs(cidrs, path);
  }
  match(ctx: MatchContext): boolean {
    if (this.source) return inRanges(ctx.metadata.source.host, this.#ranges);
    return ctx.destinationIps.some((ip) => inRanges(ip, this.#ranges));
  }
  toString(): string {
    return `${this.source ? "source_ip_cidr" : "ip_cidr"}=${formatList(this.cidrs)}`;
  }
}
