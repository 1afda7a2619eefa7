import type { Command } from "commander";
import { SING_BOX_COMPAT, VERSION } from "../version.ts";

/**
 * Registers `switchyard version [-n]`: prints the version (sing-box's `version` command shape).
 * With `-n` only the bare version number is printed.
 */
export function registerVersion(program: Command): void {
  program.command("version")
    .description("Print the current version")
    .option("-n, --name-only", "print the version number only")
    .action((opts: { nameOnly?: boolean }) => {
      if (opts.nameOnly) {
        console.log(VERSION);
        return;
      }
      console.log(`switchyard version ${VERSION}\n`);
      console.log(`Environment: deno ${Deno.version.deno} ${Deno.build.os}/${Deno.build.arch}`);
      console.log(`Config format: sing-box ${SING_BOX_COMPAT}`);
    });
}
