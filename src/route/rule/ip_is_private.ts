/**
 * `ip_is_private` / `source_ip_is_private`: the address is not a public unicast address
 * (private, loopback, link-local, unique-local, CGNAT, unspecified, reserved …).
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import type { MatchContext, RuleItem } from "./item.ts";

/** Reports whether `ip` is a non-public address. */
export function isPrivateIp(ip: string): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(ip);
  } catch {
    return false;
  }
  return a.range() !== "unicast";
}

/** Matches when the destination (or source) IP is private. */
export class IpIsPrivateItem implements RuleItem {
  constructor(readonly source: boolean) {}
  match(ctx: MatchContext): boolean {
    if (this.source) return isPrivateIp(ctx.metadata.source.host);
    return ctx.destinationIps.some(isPrivateIp);
  }
  toString(): string {
    return this.source ? "source_ip_is_private=true" : "ip_is_private=true";
  }
}
