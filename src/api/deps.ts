/**
 * What the Clash API handlers read and act on: the running instance's outbounds, router,
 * tracker, DNS, mode and URL-test history. Passed explicitly to every route module.
 *
 * @module
 */
import type { Inbound, Outbound, UrlTestHistoryStorage } from "../adapter/types.ts";
import type { Logger, LogLevel } from "../common/log.ts";
import type { DnsRouter } from "../dns/router.ts";
import type { Router } from "../route/router.ts";
import type { ModeController } from "./modes.ts";

/** Dependencies of the Clash API. */
export interface ApiDeps {
  outbounds: ReadonlyMap<string, Outbound>;
  /** Tag of the default outbound (`route.final`, else the first outbound). */
  defaultOutbound: string;
  inbounds: readonly Inbound[];
  router: Router;
  dns: DnsRouter;
  modes: ModeController;
  history: UrlTestHistoryStorage;
  /** Configured log level (reported by `/configs`). */
  logLevel: LogLevel;
  /** Aborted when the API closes; ends streaming responses. */
  shutdown: AbortSignal;
  logger: Logger;
}
