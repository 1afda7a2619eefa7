/**
 * Rule actions (spec sing-box.md §3.4). Final actions (`route`, `reject`) end matching;
 * `route-options` adjusts the connection and matching continues.
 *
 * @module
 */

/** Options a `route` or `route-options` action applies to the connection. */
export interface RouteOptionsAction {
  override_address?: string;
  override_port?: number;
  /** UDP idle timeout, ms. */
  udp_timeout?: number;
  fallback_delay?: number;
  network_strategy?: string;
  udp_disable_domain_unmapping?: boolean;
  udp_connect?: boolean;
}

/** A rule's action. */
export type RuleAction =
  | { type: "route"; outbound: string; options: RouteOptionsAction }
  | { type: "route-options"; options: RouteOptionsAction }
  | { type: "reject"; method: "default" | "drop"; noDrop: boolean }
  | { type: "sniff"; sniffers?: string[]; timeoutMs: number }
  | { type: "hijack-dns" }
  | {
    type: "resolve";
    server?: string;
    strategy?: "" | "prefer_ipv4" | "prefer_ipv6" | "ipv4_only" | "ipv6_only";
    disableCache?: boolean;
    rewriteTtl?: number;
    clientSubnet?: string;
  };

/** Prints an action as sing-box does in logs and the Clash API (`route(direct)`, `reject`). */
export function formatAction(a: RuleAction): string {
  switch (a.type) {
    case "route":
      return `route(${a.outbound})`;
    case "route-options":
      return "route-options";
    case "reject":
      return a.method === "drop" ? "reject(drop)" : "reject";
    case "sniff":
      return a.sniffers?.length ? `sniff(${a.sniffers.join(",")})` : "sniff";
    case "hijack-dns":
      return "hijack-dns";
    case "resolve":
      return a.server ? `resolve(${a.server})` : "resolve";
  }
}
