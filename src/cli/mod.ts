/**
 * The one list of CLI subcommands. Each `src/cli/<name>.ts` exports `register<Name>(program)`;
 * nothing registers itself on import.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { errorMessage } from "../common/errors.ts";
import { registerCheck } from "./check.ts";
import { registerFormat } from "./format.ts";
import { registerGenerate } from "./generate.ts";
import { registerH3 } from "./h3.ts";
import { registerPaniq } from "./paniq.ts";
import { registerRuleSet } from "./rule_set.ts";
import { registerRun } from "./run.ts";
import { registerVersion } from "./version.ts";
import { registerTrace } from "./trace.ts";
import { registerTraceServer } from "./trace_server.ts";

/** Global flags shared by every subcommand, as in sing-box (`-c` repeatable, `-C`, `-D`). */
export interface GlobalOptions {
  config: string[];
  configDirectory?: string;
  directory?: string;
  disableColor?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Builds the commander program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command("switchyard")
    .description("Proxy router (sing-box 1.12 config), paniq tunnel and traceroute in one binary")
    .option(
      "-c, --config <file>",
      "set configuration file path (repeatable; 'stdin' reads standard input)",
      collect,
      [],
    )
    .option("-C, --config-directory <dir>", "set configuration directory path")
    .option("-D, --directory <dir>", "set working directory")
    .option("--disable-color", "disable color output")
    .showHelpAfterError()
    .exitOverride();
  const registrations: ((p: Command) => void)[] = [
    registerPaniq,
    registerRun,
    registerCheck,
    registerFormat,
    registerGenerate,
    registerRuleSet,
    registerVersion,
    registerTrace,
    registerTraceServer,
    registerH3,
  ];
  for (const register of registrations) register(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError();
  return program;
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit code.
 * Commands that run until a signal resolve when the service has stopped.
 */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof Deno.exitCode === "number" ? Deno.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version display exit with code 0; parse errors were already printed by commander.
      return e.exitCode;
    }
    console.error(`FATAL: ${errorMessage(e)}`);
    return 1;
  }
}
