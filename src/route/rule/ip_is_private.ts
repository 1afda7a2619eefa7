/**
 * `ip_is_private` / `source_ip_is_private`. As sing-box (`N.IsPublicAddr` = Go's
 * `IsGlobalUnicast() && !IsPrivate()`), an address is private when it is unspecified,
 * loopback, link-local, multicast, broadcast, RFC 1918 or unique-local (fc00::/7); CGNAT and
 * documentation ranges count as public.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import type { MatchContext, RuleItem } from "./item.ts";

const NON_PUBLIC = new Set([
  "unspecified",
  "broadcast",
  "multicast",
  "linkLocal",
  "loopback",
  "private",
  "uniqueLocal",
]);

/** Reports whether `ip` is a non-public address. */
export function isPrivateIp(ip: string): boolean {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(ip);
  } catch {
    return false;
  }
  return NON_PUBLIC.has(a.range());
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
