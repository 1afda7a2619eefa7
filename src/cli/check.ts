import type { Command } from "commander";
import { Box } from "../box.ts";
import { registries } from "../include/registry.ts";
import { globalOptions, loadOptions } from "./_config.ts";

/**
 * Registers `check`: validates the config and builds every service without starting it.
 * Prints nothing and exits 0 when valid; otherwise the error (with its JSON path) and exit 1.
 */
export function registerCheck(program: Command): void {
  program.command("check")
    .description("Check configuration")
    .action(async (_opts: unknown, cmd: Command) => {
      const options = await loadOptions(globalOptions(cmd));
      Box.create(options, registries());
    });
}
