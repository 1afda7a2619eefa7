/**
 * The rule-item contract (sing-box `adapter.RuleItem`): `match` tests one property of a
 * connection; `toString` prints the item in config syntax (`port=[80 443]`) for logs and the
 * Clash API.
 *
 * @module
 */
import type { Metadata } from "../../adapter/types.ts";
import { isIP } from "../../common/ip.ts";

/** A connection as rules see it: metadata plus values derived once per match. */
export interface MatchContext {
  metadata: Metadata;
  /** Lower-cased domain: sniffed domain, else the destination host when it is a name. */
  domain: string | undefined;
  /** Destination IPs: the destination host when it is an IP, else resolved addresses. */
  destinationIps: readonly string[];
}

/** Builds the match context for `metadata`. */
export function matchContext(metadata: Metadata): MatchContext {
  const host = metadata.destination.host;
  const hostIsIp = isIP(host);
  let domain = (metadata.domain ?? (hostIsIp ? undefined : host))?.toLowerCase();
  if (domain?.endsWith(".")) domain = domain.slice(0, -1);
  return {
    metadata,
    domain,
    destinationIps: hostIsIp ? [host] : metadata.destinationAddresses ?? [],
  };
}

/** One rule item. */
export interface RuleItem {
  match(ctx: MatchContext): boolean;
  toString(): string;
}

/** Formats a list the way sing-box prints item values: one value bare, several in brackets. */
export function formatList(values: readonly (string | number)[]): string {
  return values.length === 1 ? String(values[0]) : `[${values.join(" ")}]`;
}

/**
 * An item that matches when one property of the connection is one of the configured values
 * (`process_name`, `user`, …); a missing property never matches.
 */
export class ValueSetItem<T extends string | number> implements RuleItem {
  readonly #set: Set<T>;
  /**
   * @param key the config key, for `toString`
   * @param read the property of the connection, undefined when unknown
   */
  constructor(
    readonly key: string,
    readonly values: readonly T[],
    readonly read: (ctx: MatchContext) => T | undefined,
  ) {
    this.#set = new Set(values);
  }
  match(ctx: MatchContext): boolean {
    const v = this.read(ctx);
    return v !== undefined && this.#set.has(v);
  }
  toString(): string {
    return `${this.key}=${formatList(this.values)}`;
  }
}
