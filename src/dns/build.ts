/**
 * Builds the DNS subsystem from a validated `dns` section: one transport per server (legacy
 * addresses upgraded first), the client with the cache switches, the compiled rules and the
 * router. The lead's box wiring calls {@linkcode buildDnsRouter} once per config.
 *
 * @module
 */
import type { Dialer } from "../adapter/types.ts";
import { ConfigError } from "../common/errors.ts";
import type { Logger } from "../common/log.ts";
import { upgradeLegacyAddress } from "./address.ts";
import { DnsClient, type DomainStrategy, type RdrcStore } from "./client.ts";
import type { Clock } from "./lru.ts";
import type { DnsOptions, DnsServerOptions } from "./options.ts";
import { DnsRouter } from "./router.ts";
import { compileDnsRule, type DnsRule } from "./rule/compile.ts";
import type { RuleSetMatcher } from "../route/rule/rule_set.ts";
import type { DnsTransport } from "./transport.ts";
import type { ServerResolver } from "./transports/_server.ts";
import type { DnsTlsOptions } from "./transports/_tls.ts";
import { type FakeIpStorage, FakeIpTransport } from "./transports/fakeip.ts";
import { HostsTransport } from "./transports/hosts.ts";
import { HttpsTransport } from "./transports/https.ts";
import { LocalTransport } from "./transports/local.ts";
import { RcodeTransport } from "./transports/rcode.ts";
import { TcpTransport } from "./transports/tcp.ts";
import { TlsTransport } from "./transports/tls.ts";
import { UdpTransport } from "./transports/udp.ts";

/** Options handed to a transport factory registered from outside (h3, quic). */
export interface ExtraTransportOptions {
  tag: string;
  server: string;
  serverPort?: number;
  path?: string;
  headers?: Record<string, string[]>;
  tls?: DnsTlsOptions;
}

/** What building needs from the rest of the program. */
export interface DnsBuildContext {
  /** Dialer for a server's `detour` (undefined: direct sockets). */
  dialer?(detour: string): Dialer | undefined;
  /** Rule-sets by tag for `rule_set` items. */
  ruleSet?(tag: string): RuleSetMatcher | undefined;
  /** Current Clash mode. */
  clashMode?: () => string | undefined;
  /** Persistent fake-IP storage (`cache_file.store_fakeip`). */
  fakeIpStorage?: FakeIpStorage;
  /** Persistent rejected-response cache (`cache_file.store_rdrc`). */
  rdrc?: RdrcStore;
  /** Factories for server types written elsewhere (`h3`, `quic`). */
  extraTransports?: Record<string, (o: ExtraTransportOptions) => DnsTransport>;
  logger?: Logger;
  clock?: Clock;
  /** Reads `certificate_path` files. @default {Deno.readTextFileSync} */
  readFile?: (path: string) => string;
}

type TlsField = {
  server_name?: string;
  certificate?: string[];
  certificate_path?: string;
  alpn?: string[];
  insecure?: boolean;
};

function tlsOptions(tls: TlsField | undefined, ctx: DnsBuildContext): DnsTlsOptions | undefined {
  if (!tls) return undefined;
  const caCerts = [...(tls.certificate ?? [])];
  if (tls.certificate_path) caCerts.push((ctx.readFile ?? Deno.readTextFileSync)(tls.certificate_path));
  return {
    serverName: tls.server_name,
    caCerts: caCerts.length ? caCerts : undefined,
    alpn: tls.alpn,
    insecure: tls.insecure,
  };
}

function createTransport(
  o: DnsServerOptions,
  path: string,
  ctx: DnsBuildContext,
  lookupServer: () => ServerResolver | undefined,
  legacyFakeip: { inet4_range?: string; inet6_range?: string } | undefined,
): DnsTransport {
  if (o.type === undefined || o.type === "") {
    const legacy = o as Extract<DnsServerOptions, { address: string }>;
    const tag = legacy.tag ?? "";
    const up = upgradeLegacyAddress(legacy.address, `${path}.address`);
    const dialer = legacy.detour ? ctx.dialer?.(legacy.detour) : undefined;
    switch (up.type) {
      case "local":
        return new LocalTransport({ tag, dialer });
      case "fakeip":
        return new FakeIpTransport({
          tag,
          inet4Range: legacyFakeip?.inet4_range,
          inet6Range: legacyFakeip?.inet6_range,
          storage: ctx.fakeIpStorage,
        });
      case "rcode":
        return new RcodeTransport(tag, up.rcode);
      case "dhcp":
        throw new ConfigError(`${path}.address`, 'DNS server type "dhcp" is not supported by this build');
      default:
        return createTransport({ ...up, tag } as DnsServerOptions, path, ctx, lookupServer, legacyFakeip);
    }
  }
  const tag = o.tag ?? "";
  switch (o.type) {
    case "local":
      return new LocalTransport({ tag, dialer: o.detour ? ctx.dialer?.(o.detour) : undefined });
    case "hosts":
      return new HostsTransport({ tag, path: o.path, predefined: o.predefined });
    case "fakeip":
      if (!o.inet4_range && !o.inet6_range) {
        throw new ConfigError(path, "fakeip server needs inet4_range or inet6_range");
      }
      return new FakeIpTransport({
        tag,
        inet4Range: o.inet4_range,
        inet6Range: o.inet6_range,
        storage: ctx.fakeIpStorage,
      });
    case "udp":
    case "tcp": {
      const opts = {
        tag,
        server: o.server,
        serverPort: o.server_port,
        dialer: o.detour ? ctx.dialer?.(o.detour) : undefined,
        resolver: lookupServer(),
      };
      return o.type === "udp" ? new UdpTransport(opts) : new TcpTransport(opts);
    }
    case "tls":
    case "quic": {
      const tls = tlsOptions(o.tls, ctx);
      if (o.type === "quic") {
        return extra("quic", { tag, server: o.server, serverPort: o.server_port, tls }, path, ctx);
      }
      return new TlsTransport({
        tag,
        server: o.server,
        serverPort: o.server_port,
        tls,
        resolver: lookupServer(),
        dialer: o.detour ? ctx.dialer?.(o.detour) : undefined,
      });
    }
    case "https":
    case "h3": {
      const tls = tlsOptions(o.tls, ctx);
      if (o.type === "h3") {
        return extra(
          "h3",
          { tag, server: o.server, serverPort: o.server_port, path: o.path, headers: o.headers, tls },
          path,
          ctx,
        );
      }
      return new HttpsTransport({
        tag,
        server: o.server,
        serverPort: o.server_port,
        path: o.path,
        method: o.method,
        headers: o.headers,
        tls,
        resolver: lookupServer(),
        dialer: o.detour ? ctx.dialer?.(o.detour) : undefined,
      });
    }
    case "dhcp":
    case "tailscale":
    case "resolved":
      throw new ConfigError(`${path}.type`, `DNS server type "${o.type}" is not supported by this build`);
  }
}

function extra(type: string, o: ExtraTransportOptions, path: string, ctx: DnsBuildContext): DnsTransport {
  const factory = ctx.extraTransports?.[type];
  if (!factory) {
    throw new ConfigError(`${path}.type`, `DNS server type "${type}" is not included in this build`);
  }
  return factory(o);
}

/**
 * Builds the router for a `dns` section. Server `domain_resolver` fields and legacy
 * `address_resolver` resolve server host names through the router itself.
 *
 * @throws {ConfigError} If a server or rule is invalid (the message names the JSON path)
 */
export function buildDnsRouter(options: DnsOptions, ctx: DnsBuildContext = {}): DnsRouter {
  const transports = new Map<string, DnsTransport>();
  const ref: { router?: DnsRouter } = {};
  const servers = options.servers ?? [];
  const legacyFakeip = options.fakeip;
  servers.forEach((server, i) => {
    const path = `dns.servers[${i}]`;
    const tag = server.tag ?? "";
    if (transports.has(tag)) throw new ConfigError(`${path}.tag`, `duplicate DNS server tag "${tag}"`);
    const resolverTag = resolverOf(server);
    const lookupServer = (): ServerResolver | undefined =>
      resolverTag ? (host) => ref.router!.lookup(host, { server: resolverTag }) : undefined;
    transports.set(tag, createTransport(server, path, ctx, lookupServer, legacyFakeip));
  });
  if (!transports.size) transports.set("local", new LocalTransport({ tag: "local" }));
  for (const server of servers) {
    const resolverTag = resolverOf(server);
    if (resolverTag && !transports.has(resolverTag)) {
      throw new ConfigError("dns.servers", `domain resolver "${resolverTag}" not found`);
    }
  }
  if (options.final && !transports.has(options.final)) {
    throw new ConfigError("dns.final", `DNS server "${options.final}" not found`);
  }
  const rules: DnsRule[] = (options.rules ?? []).map((r, i) =>
    compileDnsRule(r, `dns.rules[${i}]`, {
      hasServer: (tag) => transports.has(tag),
      ruleSet: ctx.ruleSet,
      clashMode: ctx.clashMode,
      logger: ctx.logger,
    })
  );
  const client = new DnsClient({
    disableCache: options.disable_cache,
    disableExpire: options.disable_expire,
    independentCache: options.independent_cache,
    cacheCapacity: options.cache_capacity,
    clientSubnet: options.client_subnet,
    rdrc: ctx.rdrc,
    clock: ctx.clock,
  });
  const router = new DnsRouter({
    client,
    transports,
    rules,
    final: options.final,
    strategy: (options.strategy ?? "") as DomainStrategy,
    reverseMapping: options.reverse_mapping,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  ref.router = router;
  return router;
}

function resolverOf(server: DnsServerOptions): string | undefined {
  if (server.type === undefined || server.type === "") {
    return (server as { address_resolver?: string }).address_resolver || undefined;
  }
  const dr = (server as { domain_resolver?: string | { server: string } }).domain_resolver;
  return typeof dr === "string" ? dr || undefined : dr?.server;
}
