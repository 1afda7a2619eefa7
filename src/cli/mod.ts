/**
 * The one list of CLI subcommands. Each `src/cli/<name>.ts` exports `register<Name>(program)`;
 * nothing registers itself on import. Subcommand modules load lazily: a command line naming one
 * subcommand loads only that module (a `trace` does not evaluate the router), help and unknown
 * commands load them all.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { errorMessage } from "../common/errors.ts";

/** Global flags shared by every subcommand, as in sing-box (`-c` repeatable, `-C`, `-D`). */
export interface GlobalOptions {
  config: string[];
  configDirectory?: string;
  directory?: string;
  disableColor?: boolean;
}

type Register = (p: Command) => void;

/** Subcommand name → loader of its `register` function, in help order. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  paniq: async () => (await import("./paniq.ts")).registerPaniq,
  run: async () => (await import("./run.ts")).registerRun,
  check: async () => (await import("./check.ts")).registerCheck,
  format: async () => (await import("./format.ts")).registerFormat,
  merge: async () => (await import("./format.ts")).registerFormat,
  generate: async () => (await import("./generate.ts")).registerGenerate,
  "rule-set": async () => (await import("./rule_set.ts")).registerRuleSet,
  version: async () => (await import("./version.ts")).registerVersion,
  trace: async () => (await import("./trace.ts")).registerTrace,
  "trace-server": async () => (await import("./trace_server.ts")).registerTraceServer,
  h3: async () => (await import("./h3.ts")).registerH3,
};

/** Global options that take a value (their value is never a subcommand name). */
const VALUE_OPTIONS = new Set(["-c", "--config", "-C", "--config-directory", "-D", "--directory"]);

/** The subcommand `args` names, or undefined (help, no command, unknown command). */
function subcommandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return Object.hasOwn(COMMANDS, a) ? a : undefined;
  }
  return undefined;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Builds the commander program.
 * @param only register just this subcommand (by default every one)
 */
export async function buildProgram(only?: string): Promise<Command> {
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
  const loaders = only ? [COMMANDS[only]!] : Object.values(COMMANDS);
  const registrations = [...new Set(await Promise.all(loaders.map((load) => load())))];
  for (const register of registrations) register(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError();
  return program;
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit code.
 * Commands that run until a signal resolve when the service has stopped.
 */
export async function runCli(args: string[]): Promise<number> {
  const program = await buildProgram(subcommandOf(args));
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
