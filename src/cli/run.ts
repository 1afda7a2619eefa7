/**
 * `switchyard run`: starts the service from the config. SIGINT/SIGTERM close gracefully
 * (listeners stop, live relays get a grace period); SIGHUP reloads the config without dropping
 * established connections (an invalid new config is logged and the old one keeps running).
 *
 * @module
 */
import type { Command } from "commander";
import { Box } from "../box.ts";
import { errorMessage } from "../common/errors.ts";
import { getLogger, setupLogging } from "../common/log.ts";
import { registries } from "../include/registry.ts";
import { globalOptions, loadOptions } from "./_config.ts";
import type { Options } from "../config/config.ts";
import type { GlobalOptions } from "./mod.ts";

/** Grace period for live connections on shutdown, ms (sing-box `C.StopTimeout`-like). */
const SHUTDOWN_GRACE_MS = 5000;

/** A running instance and the options it was built from (to restore it after a failed reload). */
interface Running {
  box: Box;
  options: Options;
}

async function startBox(options: Options): Promise<Running> {
  await setupLogging(options.log);
  const box = Box.create(options, registries());
  await box.start();
  return { box, options };
}

async function reload(g: GlobalOptions, current: Running): Promise<Running> {
  const log = getLogger();
  const options = await loadOptions(g); // throws on an invalid config: keep the old box
  const next = Box.create(options, registries());
  await current.box.closeInbounds();
  let running: Running;
  try {
    // The old instance flushed its cache file as it closed; pick that up (selections, mode, fake IPs).
    next.experimental.cacheFile?.reread();
    await setupLogging(options.log);
    await next.start();
    running = { box: next, options };
    log.info("reload: configuration reloaded");
  } catch (e) {
    log.error(`reload: ${errorMessage(e)}; restoring the previous config`);
    running = await startBox(current.options);
  }
  // Established connections finish on the old router; its outbounds close after them.
  current.box.close(60 * 60_000).catch(() => {});
  return running;
}

/** Registers `run`. */
export function registerRun(program: Command): void {
  program.command("run")
    .description("Run service")
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const log = getLogger();
      let running: Running | undefined;
      let stopped!: () => void;
      const done = new Promise<void>((r) => stopped = r);
      // Signal handlers go in before the listeners open: a signal that arrives while starting is
      // applied once start has finished, never by the default action (an abrupt exit).
      let queue: Promise<unknown> = loadOptions(g).then(startBox).then((r) => running = r);
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      const removeHandlers = () => {
        for (const s of signals) Deno.removeSignalListener(s, handlers[s]);
      };
      const stop = (sig: Deno.Signal) => {
        log.info(`received ${sig}, shutting down`);
        removeHandlers();
        queue.then(() => running?.box.close(SHUTDOWN_GRACE_MS)).catch(() => {}).finally(stopped);
      };
      const handlers = {
        SIGINT: () => stop("SIGINT"),
        SIGTERM: () => stop("SIGTERM"),
        SIGHUP: () => {
          log.info("received SIGHUP, reloading");
          queue = queue.then(async () => {
            try {
              running = await reload(g, running!);
            } catch (e) {
              log.error(`reload: ${errorMessage(e)}`);
            }
          });
        },
      };
      for (const s of signals) Deno.addSignalListener(s, handlers[s]);
      try {
        await queue;
      } catch (e) {
        removeHandlers();
        throw e;
      }
      await done;
    });
}
