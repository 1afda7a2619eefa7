/**
 * A running Switchyard instance built from one validated config (sing-box `box.Box`):
 * outbounds, the router and inbounds, started in stages and closed gracefully.
 *
 * @module
 */
import type { InboundContext, OutboundContext } from "./adapter/registry.ts";
import type {
  Dialer,
  DialOptions,
  Inbound,
  Outbound,
  PacketConn,
  Socksaddr,
  Stream,
} from "./adapter/types.ts";
import type { DialFieldsOptions } from "./config/common.ts";
import type { ConfigRegistries, Options } from "./config/config.ts";
import { ConfigError, errorMessage } from "./common/errors.ts";
import { SystemDialer } from "./common/dialer.ts";
import type { ResolvedAddress } from "./common/happy_eyeballs.ts";
import { isIP } from "./common/socks_addr.ts";
import { buildDnsRouter } from "./dns/build.ts";
import { createH3Transport } from "./dns/transports/h3.ts";
import { createQuicTransport } from "./dns/transports/quic.ts";
import type { DnsRouter } from "./dns/router.ts";
import { getLogger, type Logger } from "./common/log.ts";
import { compileRule } from "./route/rule/compile.ts";
import { rulesUseProcess } from "./route/rule/shared.ts";
import { Router } from "./route/router.ts";
import { ClashModeState } from "./route/clash_mode.ts";
import { Experimental } from "./api/experimental.ts";
import { checkGroups } from "./protocol/group/members.ts";
import { ProcSearcher } from "./route/process/searcher.ts";
import { downloadVia } from "./route/rule_set/download.ts";
import { closeRuleSets, createRuleSets, type RuleSet, startRuleSets } from "./route/rule_set/provider.ts";

/** Dial fields parsed but not honoured by this build (warned about when set). */
const IGNORED_DIAL_FIELDS = [
  "bind_interface",
  "routing_mark",
  "netns",
  "tcp_fast_open",
  "tcp_multi_path",
  "reuse_addr",
  "udp_fragment",
  "network_strategy",
  "network_type",
  "fallback_network_type",
] as const;

/** Dials through another outbound, looked up by tag when used (`detour`). */
class DetourDialer implements Dialer {
  constructor(readonly tag: string, readonly lookup: (tag: string) => Outbound | undefined) {}
  #get(): Outbound {
    const o = this.lookup(this.tag);
    if (!o) throw new Error(`Detour outbound "${this.tag}" not found`);
    return o;
  }
  dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    return this.#get().dial(destination, options);
  }
  listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    return this.#get().listenPacket(destination, options);
  }
}

type DomainResolverOption = NonNullable<DialFieldsOptions["domain_resolver"]>;

/** Resolves names through the DNS router for `domain_resolver` (a server tag or an object). */
function dnsResolver(dns: DnsRouter, r: DomainResolverOption): (host: string) => Promise<ResolvedAddress[]> {
  const o = typeof r === "string" ? { server: r } : r;
  return async (host) => {
    if (isIP(host)) return [{ address: host, family: host.includes(":") ? 6 : 4 }];
    const addrs = await dns.lookup(host, {
      server: o.server,
      strategy: "strategy" in o ? o.strategy : undefined,
      disableCache: "disable_cache" in o ? o.disable_cache : undefined,
      rewriteTtl: "rewrite_ttl" in o ? o.rewrite_ttl : undefined,
      clientSubnet: "client_subnet" in o ? o.client_subnet : undefined,
    });
    return addrs.map((a) => ({ address: a, family: a.includes(":") ? 6 : 4 }));
  };
}

function systemDialer(
  o: DialFieldsOptions,
  logger: Logger,
  resolve?: (host: string) => Promise<ResolvedAddress[]>,
): Dialer {
  for (const key of IGNORED_DIAL_FIELDS) {
    if (o[key] !== undefined && o[key] !== false) {
      logger.warn(`dial field "${key}" is not supported by this build and is ignored`);
    }
  }
  return new SystemDialer({
    resolve,
    connectTimeoutMs: o.connect_timeout,
    fallbackDelayMs: o.fallback_delay,
    strategy: o.domain_strategy,
    inet4BindAddress: o.inet4_bind_address,
    inet6BindAddress: o.inet6_bind_address,
  });
}

function checkDetours(outbounds: Options["outbounds"]): void {
  const byTag = new Map(outbounds.map((o) => [o.tag, o]));
  for (const o of outbounds) {
    const seen = new Set<string>([o.tag]);
    let cur = o;
    for (;;) {
      const detour = (cur.options as { detour?: string }).detour;
      if (detour === undefined) break;
      const next = byTag.get(detour);
      if (!next) throw new ConfigError(`${cur.path}.detour`, `outbound "${detour}" not found`);
      if (seen.has(detour)) throw new ConfigError(`${o.path}.detour`, `detour loop through "${detour}"`);
      seen.add(detour);
      cur = next;
    }
  }
}

/** A built instance. Create with {@linkcode Box.create}, then `start()`. */
export class Box {
  readonly router: Router;
  readonly inbounds: Inbound[];
  readonly outbounds: Map<string, Outbound>;
  readonly dns: DnsRouter;
  /** Clash API mode read by `clash_mode` rule items; undefined mode without `experimental.clash_api`. */
  readonly clashMode: ClashModeState;
  /** Cache file, URL-test history and Clash API (`experimental`). */
  readonly experimental: Experimental;
  /** `route.rule_set[]` by tag; loaded by {@linkcode Box.start}. */
  readonly ruleSets: ReadonlyMap<string, RuleSet>;
  /** Process lookups are needed by a route/DNS rule or `route.find_process` (rule-sets checked at start). */
  readonly #findProcess: boolean;
  #logger: Logger;

  private constructor(
    parts: {
      router: Router;
      inbounds: Inbound[];
      outbounds: Map<string, Outbound>;
      dns: DnsRouter;
      clashMode: ClashModeState;
      experimental: Experimental;
      ruleSets: ReadonlyMap<string, RuleSet>;
      findProcess: boolean;
    },
  ) {
    this.router = parts.router;
    this.clashMode = parts.clashMode;
    this.experimental = parts.experimental;
    this.inbounds = parts.inbounds;
    this.outbounds = parts.outbounds;
    this.dns = parts.dns;
    this.ruleSets = parts.ruleSets;
    this.#findProcess = parts.findProcess;
    this.#logger = getLogger();
  }

  /**
   * Builds every service from validated options; nothing is bound or read yet.
   * @throws {ConfigError} If a reference (detour, rule outbound, final, rule-set) names a missing
   *   tag, or a rule or rule-set entry is invalid
   */
  static create(options: Options, registries: ConfigRegistries): Box {
    const outbounds = new Map<string, Outbound>();
    const lookup = (tag: string) => outbounds.get(tag);
    const outboundOptions = options.outbounds.length > 0
      ? options.outbounds
      : [{ type: "direct", tag: "direct", options: { type: "direct" }, path: "outbounds" }];
    checkDetours(outboundOptions);
    const final = options.route.final ?? outboundOptions[0]!.tag;
    const clashApi = options.experimental?.clash_api as { default_mode?: string } | undefined;
    const clashMode = new ClashModeState(clashApi ? (clashApi.default_mode ?? "Rule") : undefined);
    const experimental = new Experimental(options.experimental, getLogger("clash-api"));
    const cacheFile = options.experimental?.cache_file as { enabled?: boolean; path?: string } | undefined;
    const ruleSets = createRuleSets(options.route.rule_set ?? [], {
      // Remote sets are fetched through `download_detour`, else the default (final) outbound.
      download: (url, detour, signal) => {
        const tag = detour ?? final;
        const outbound = lookup(tag);
        if (!outbound) throw new Error(`outbound "${tag}" not found`);
        return downloadVia(outbound, url, { signal });
      },
      // sing-box keeps downloaded sets in the cache_file database; here they sit beside it.
      cacheDir: cacheFile?.enabled ? `${cacheFile.path || "cache.db"}.rule_set` : undefined,
      logger: getLogger("rule-set"),
    }, (tag) => outboundOptions.some((o) => o.tag === tag));
    const ruleSet = (tag: string) => ruleSets.get(tag);
    const dns = buildDnsRouter(options.dns ?? {}, {
      clashMode: () => clashMode.mode,
      ruleSet,
      dialer: (detour) => new DetourDialer(detour, lookup),
      logger: getLogger("dns"),
      extraTransports: { h3: createH3Transport, quic: createQuicTransport },
      fakeIpStorage: experimental.cacheFile?.fakeIpStorage,
      rdrc: experimental.cacheFile?.rdrcStore,
    });
    const defaultResolver = options.route.default_domain_resolver;
    const checkResolver = (r: DomainResolverOption | undefined, path: string) => {
      const server = typeof r === "string" ? r : r?.server;
      if (server !== undefined && !dns.transports.has(server)) {
        throw new ConfigError(path, `DNS server "${server}" not found`);
      }
    };
    checkResolver(defaultResolver, "route.default_domain_resolver");
    for (const o of outboundOptions) {
      const logger = getLogger("outbound", `${o.type}[${o.tag}]`);
      const ctx: OutboundContext = {
        tag: o.tag,
        logger,
        dialer: (dial) => {
          if (dial.detour) return new DetourDialer(dial.detour, lookup);
          checkResolver(dial.domain_resolver, `${o.path}.domain_resolver`);
          const r = dial.domain_resolver ?? defaultResolver;
          return systemDialer(dial, logger, r === undefined ? undefined : dnsResolver(dns, r));
        },
        outbound: lookup,
        cacheFile: experimental.cacheFile,
        urlTestHistory: experimental.urlTestHistory,
      };
      outbounds.set(o.tag, registries.outbounds.get(o.type)!.create(ctx, o.options));
    }
    checkGroups(outboundOptions, lookup);
    if (!outbounds.has(final)) throw new ConfigError("route.final", `outbound "${final}" not found`);
    const ruleContext = {
      hasOutbound: (t: string) => outbounds.has(t),
      hasDnsServer: (t: string) => dns.transports.has(t),
      ruleSet,
      clashMode: () => clashMode.mode,
      logger: getLogger("router"),
    };
    const rules = options.route.rules.map((r, i) => compileRule(r, `route.rules[${i}]`, ruleContext));
    const router = new Router({ rules, outbounds, final, logger: getLogger(), dns });
    const inbounds = options.inbounds.map((i) => {
      const ctx: InboundContext = { tag: i.tag, router, logger: getLogger("inbound", `${i.type}[${i.tag}]`) };
      return registries.inbounds.get(i.type)!.create(ctx, i.options);
    });
    experimental.attach({
      outbounds,
      defaultOutbound: final,
      inbounds,
      router,
      dns,
      clashMode,
      routeRules: options.route.rules,
      dnsRules: options.dns?.rules,
      logLevel: options.log.level ?? "info",
    });
    const findProcess = options.route.find_process === true || rulesUseProcess(options.route.rules) ||
      rulesUseProcess(options.dns?.rules ?? []);
    return new Box({ router, inbounds, outbounds, dns, clashMode, experimental, ruleSets, findProcess });
  }

  /** Installs the process searcher when a rule, a loaded rule-set or `find_process` needs it. */
  #setUpProcessSearch(): void {
    const need = this.#findProcess || [...this.ruleSets.values()].some((s) => s.containsProcessRule);
    if (!need) return;
    if (Deno.build.os !== "linux") {
      this.#logger.warn(`process rules need /proc; not available on ${Deno.build.os}, they never match`);
      return;
    }
    this.router.setProcessSearcher(new ProcSearcher());
  }

  /**
   * Starts outbounds, loads the rule-sets, then starts inbounds. On failure, whatever started is
   * closed again.
   * @throws {Error} Prefixed with the stage and service, e.g. `start inbound/mixed[in]: Address in use`,
   *   or `Cannot load rule-set "<tag>": <reason>`
   */
  async start(): Promise<void> {
    const t0 = performance.now();
    const started: { close?(): Promise<void> }[] = [];
    try {
      for (const o of this.outbounds.values()) {
        try {
          await o.start?.();
        } catch (e) {
          throw new Error(`start outbound/${o.type}[${o.tag}]: ${errorMessage(e)}`, { cause: e });
        }
        started.push(o);
      }
      await startRuleSets(this.ruleSets);
      started.push({ close: () => closeRuleSets(this.ruleSets) });
      this.#setUpProcessSearch();
      for (const i of this.inbounds) {
        try {
          await i.start();
        } catch (e) {
          throw new Error(`start inbound/${i.type}[${i.tag}]: ${errorMessage(e)}`, { cause: e });
        }
        started.push(i);
      }
      try {
        await this.experimental.start();
      } catch (e) {
        throw new Error(`start clash-server: ${errorMessage(e)}`, { cause: e });
      }
      started.push(this.experimental);
    } catch (e) {
      for (const s of started.reverse()) await s.close?.().catch(() => {});
      throw e;
    }
    this.#logger.info(`switchyard started (${((performance.now() - t0) / 1000).toFixed(2)}s)`);
  }

  /**
   * Stops accepting new connections (inbounds and the Clash API) and writes the cache file;
   * established connections keep running.
   */
  async closeInbounds(): Promise<void> {
    await Promise.all([...this.inbounds, this.experimental].map((i) => i.close().catch(() => {})));
  }

  /**
   * Closes gracefully: inbounds stop at once, live connections get `graceMs` to finish, then
   * are closed; outbounds close last.
   * @param graceMs how long to wait for live connections, ms
   */
  async close(graceMs = 5000): Promise<void> {
    await this.closeInbounds();
    const idle = await this.router.tracker.waitIdle(graceMs);
    if (!idle) {
      this.#logger.warn(`closing ${this.router.tracker.size} connection(s) still open after ${graceMs} ms`);
      this.router.tracker.closeAll();
      await this.router.tracker.waitIdle(1000);
    }
    await closeRuleSets(this.ruleSets);
    for (const o of this.outbounds.values()) await o.close?.().catch(() => {});
    await this.dns.close().catch(() => {});
  }
}
