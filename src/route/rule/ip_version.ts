import type { MatchContext, RuleItem } from "./item.ts";

/** `ip_version`: the destination is an IPv4 (4) or IPv6 (6) address. */
export class IpVersionItem implements RuleItem {
  constructor(readonly version: 4 | 6) {}
  match(ctx: MatchContext): boolean {
    return ctx.destinationIps.some((ip) => ip.includes(":") === (this.version === 6));
  }
  toString(): string {
    return `ip_version=${this.version}`;
  }
}
