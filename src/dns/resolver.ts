/**
 * Resolving names for outbounds and the `resolve` action: turns a dial field
 * `domain_resolver` (a server tag or `{server, strategy, disable_cache, rewrite_ttl,
 * client_subnet}`), falling back to `route.default_domain_resolver`, into a lookup function
 * over the DNS router. Without either, lookups go through the DNS rules (fake-IP servers
 * skipped), as sing-box does.
 *
 * @module
 */
import type { DomainStrategy } from "./client.ts";
import type { LookupOptions } from "./router.ts";
import type { DnsRouter } from "./router.ts";

/** A `domain_resolver` value as parsed from the config. */
export type DomainResolverOption =
  | string
  | {
    server: string;
    strategy?: string;
    disable_cache?: boolean;
    rewrite_ttl?: number;
    client_subnet?: string;
  };

/** Looks up a host name; resolves to addresses in preference order. */
export type Resolve = (host: string, signal?: AbortSignal) => Promise<string[]>;

/** Converts a `domain_resolver` value to router lookup options. */
export function lookupOptions(option: DomainResolverOption | undefined): LookupOptions {
  if (option === undefined || option === "") return {};
  if (typeof option === "string") return { server: option };
  const out: LookupOptions = { server: option.server };
  if (option.strategy) out.strategy = option.strategy as DomainStrategy;
  if (option.disable_cache) out.disableCache = true;
  if (option.rewrite_ttl !== undefined) out.rewriteTtl = option.rewrite_ttl;
  if (option.client_subnet) out.clientSubnet = option.client_subnet;
  return out;
}

/**
 * A resolver for one outbound: its own `domain_resolver`, else `default_domain_resolver`, else
 * the DNS rules. A legacy `domain_strategy` on the dial fields applies when the resolver sets
 * none.
 *
 * @example Usage
 * ```ts ignore
 * const resolve = resolverFor(dnsRouter, outbound.domain_resolver, route.default_domain_resolver);
 * const addrs = await resolve("example.com");
 * ```
 */
export function resolverFor(
  router: DnsRouter,
  option?: DomainResolverOption,
  defaultOption?: DomainResolverOption,
  legacyStrategy?: DomainStrategy,
): Resolve {
  const opts = lookupOptions(option ?? defaultOption);
  if (!opts.strategy && legacyStrategy) opts.strategy = legacyStrategy;
  return (host) => router.lookup(host, opts);
}
