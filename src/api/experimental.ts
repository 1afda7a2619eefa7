/**
 * The `experimental` section at run time (spec sing-box.md §5): the cache file, the URL-test
 * history shared by groups and the Clash API, and the Clash API server. The box creates this
 * first (outbounds and DNS need the cache file), attaches the router once it exists, starts it
 * after the inbounds and closes it with them.
 *
 * @module
 */
import { z } from "zod";
import type { Inbound, Outbound, UrlTestHistoryStorage } from "../adapter/types.ts";
import { ConfigError, errorMessage } from "../common/errors.ts";
import type { Logger, LogLevel } from "../common/log.ts";
import { parseAt } from "../config/issues.ts";
import type { DnsRouter } from "../dns/router.ts";
import { MemoryUrlTestHistory } from "../protocol/urltest/history.ts";
import type { ClashModeState } from "../route/clash_mode.ts";
import type { Router } from "../route/router.ts";
import { CacheFile, cacheFileSchema } from "./cache_file.ts";
import { clashModeList, ModeController } from "./modes.ts";
import { type ClashApiOptions, clashApiSchema } from "./options.ts";
import { ClashApiServer } from "./server.ts";

const experimentalSchema = z.strictObject({
  cache_file: cacheFileSchema.optional(),
  clash_api: clashApiSchema.optional(),
  // Parsed for portability; not implemented by this build (warned about when set).
  v2ray_api: z.record(z.string(), z.unknown()).optional(),
  debug: z.record(z.string(), z.unknown()).optional(),
});

/** What {@linkcode Experimental.attach} needs once the box is built. */
export interface ExperimentalAttach {
  outbounds: ReadonlyMap<string, Outbound>;
  defaultOutbound: string;
  inbounds: readonly Inbound[];
  router: Router;
  dns: DnsRouter;
  clashMode: ClashModeState;
  /** `clash_mode` values of route and DNS rules (raw rule options). */
  routeRules?: readonly unknown[];
  dnsRules?: readonly unknown[];
  logLevel: LogLevel;
}

/** Cache file, URL-test history and Clash API of one box. */
export class Experimental {
  /** The cache file, when `cache_file.enabled`. */
  readonly cacheFile?: CacheFile;
  readonly urlTestHistory: UrlTestHistoryStorage = new MemoryUrlTestHistory();
  readonly clashApiOptions?: ClashApiOptions;
  /** The Clash API, once attached (only with a `clash_api` section). */
  api?: ClashApiServer;
  modes?: ModeController;
  #log: Logger;

  /**
   * Validates `experimental` and opens the cache file.
   * @throws {ConfigError} At `experimental.…` for an invalid field or an unreadable cache file
   */
  constructor(raw: Record<string, unknown> | undefined, logger: Logger) {
    this.#log = logger;
    const o = parseAt(experimentalSchema, raw ?? {}, "experimental");
    this.clashApiOptions = o.clash_api;
    for (const key of ["v2ray_api", "debug"] as const) {
      if (o[key]) logger.warn(`experimental.${key} is not supported by this build and is ignored`);
    }
    const c = o.cache_file;
    if (c?.enabled) {
      try {
        this.cacheFile = new CacheFile({
          path: c.path,
          cacheId: c.cache_id,
          storeFakeip: c.store_fakeip,
          storeRdrc: c.store_rdrc,
          rdrcTimeoutMs: c.rdrc_timeout,
          logger,
        });
      } catch (e) {
        throw new ConfigError("experimental.cache_file.path", errorMessage(e), { cause: e });
      }
    }
  }

  /** Builds the Clash API (when configured) over the finished box. */
  attach(a: ExperimentalAttach): void {
    if (!this.clashApiOptions) return;
    const cache = this.cacheFile;
    this.modes = new ModeController(a.clashMode, clashModeList(a.routeRules, a.dnsRules), {
      clearDnsCache: () => a.dns.clearCache(),
      storeMode: cache ? (m) => cache.storeMode(m) : undefined,
      logger: this.#log,
    });
    this.api = new ClashApiServer(this.clashApiOptions, {
      outbounds: a.outbounds,
      defaultOutbound: a.defaultOutbound,
      inbounds: a.inbounds,
      router: a.router,
      dns: a.dns,
      modes: this.modes,
      history: this.urlTestHistory,
      logLevel: a.logLevel,
      logger: this.#log,
    });
  }

  /** Lets the cache file write, restores the stored Clash mode and starts listening. */
  async start(): Promise<void> {
    this.cacheFile?.start();
    this.modes?.restore(this.cacheFile?.loadMode());
    await this.api?.start();
  }

  /** Stops the API and writes the cache file. Idempotent. */
  async close(): Promise<void> {
    await this.api?.close();
    await this.cacheFile?.close();
  }
}
