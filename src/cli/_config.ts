/**
 * Shared config handling for the CLI: global flags → merged JSON → validated options.
 *
 * @module
 */
import type { Command } from "commander";
import { type Options, parseConfig } from "../config/config.ts";
import { readMergedConfig } from "../config/load.ts";
import type { Json } from "../config/merge.ts";
import { registries } from "../include/registry.ts";
import type { GlobalOptions } from "./mod.ts";

/** Reads the global flags of the command's root program and applies `-D`. */
export function globalOptions(cmd: Command): GlobalOptions {
  const g = cmd.optsWithGlobals() as GlobalOptions;
  if (g.directory) Deno.chdir(g.directory);
  return g;
}

/** Reads and merges the config files named by the global flags. */
export function readConfig(g: GlobalOptions): Promise<Json> {
  return readMergedConfig({ config: g.config ?? [], configDirectory: g.configDirectory });
}

/**
 * Reads and validates the config named by the global flags.
 * @throws {ConfigError} With the JSON path of the first invalid field
 */
export async function loadOptions(g: GlobalOptions): Promise<Options> {
  return parseConfig(await readConfig(g), registries());
}
