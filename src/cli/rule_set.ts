/**
 * `switchyard rule-set compile|decompile|match|format|convert`: the sing-box rule-set tools
 * over source JSON and binary `.srs` files.
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../common/errors.ts";
import { isIP } from "../common/ip.ts";
import type { Metadata } from "../adapter/types.ts";
import { convertAdGuard } from "../route/rule_set/adguard.ts";
import { CompiledRuleSet } from "../route/rule_set/match.ts";
import { formatRuleSetSource, parseRuleSetSource, type PlainRuleSet } from "../route/rule_set/source.ts";
import { readSrs, writeSrs } from "../route/rule_set/srs.ts";

async function readInput(path: string): Promise<Uint8Array> {
  if (path === "stdin") return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
  return await Deno.readFile(path);
}

function outputPath(source: string, given: string | undefined, fromExt: string, toExt: string): string {
  if (given) return given;
  return source.endsWith(fromExt) ? source.slice(0, -fromExt.length) + toExt : source + toExt;
}

/** Loads a rule-set in either format; `format` overrides the extension (`source`/`binary`). */
export async function loadRuleSetFile(path: string, format?: string): Promise<PlainRuleSet> {
  const bytes = await readInput(path);
  const fmt = format || (path.endsWith(".srs") ? "binary" : path.endsWith(".json") ? "source" : "");
  if (fmt === "binary") return readSrs(bytes);
  if (fmt === "source") return parseRuleSetSource(new TextDecoder().decode(bytes));
  throw new UsageError(`Unknown rule-set format for "${path}": use --format source or binary`);
}

/** Registers `rule-set` and its subcommands. */
export function registerRuleSet(program: Command): void {
  const ruleSet = program.command("rule-set").description("Manage rule-sets");

  ruleSet.command("compile")
    .description("Compile rule-set json to binary")
    .argument("[source-path]", "source file", "stdin")
    .option("-o, --output <file>", "output file (default: source with .srs)")
    .action(async (source: string, opts: { output?: string }) => {
      const set = parseRuleSetSource(new TextDecoder().decode(await readInput(source)));
      const out = outputPath(source === "stdin" ? "rule-set" : source, opts.output, ".json", ".srs");
      await Deno.writeFile(out, writeSrs(set));
    });

  ruleSet.command("decompile")
    .description("Decompile rule-set binary to json")
    .argument("[binary-path]", "binary file", "stdin")
    .option("-o, --output <file>", "output file (default: binary with .json)")
    .action(async (source: string, opts: { output?: string }) => {
      const set = readSrs(await readInput(source));
      const out = outputPath(source === "stdin" ? "rule-set" : source, opts.output, ".srs", ".json");
      await Deno.writeTextFile(out, formatRuleSetSource(set) + "\n");
    });

  ruleSet.command("format")
    .description("Format rule-set json")
    .argument("[source-path]", "source file", "stdin")
    .option("-w, --write", "write result to (source) file instead of stdout")
    .action(async (source: string, opts: { write?: boolean }) => {
      const text = formatRuleSetSource(parseRuleSetSource(new TextDecoder().decode(await readInput(source))));
      if (!opts.write || source === "stdin") {
        console.log(text);
        return;
      }
      await Deno.writeTextFile(source, text + "\n");
      console.error(source);
    });

  ruleSet.command("match")
    .description("Check if an IP address or a domain matches the rule-set")
    .argument("<rule-set-path>", "rule-set file")
    .argument("<address>", "IP address or domain")
    .option("-f, --format <format>", "rule-set format (source or binary)")
    .action(async (path: string, address: string, opts: { format?: string }) => {
      const set = await loadRuleSetFile(path, opts.format);
      const compiled = new CompiledRuleSet(set);
      const ip = isIP(address) !== 0;
      const metadata: Metadata = {
        inbound: "",
        inboundType: "",
        network: "tcp",
        source: { host: "0.0.0.0", port: 0 },
        destination: { host: ip ? address : "", port: 0 },
      };
      const ctx = {
        metadata,
        domain: ip ? undefined : address.toLowerCase().replace(/\.$/, ""),
        destinationIps: ip ? [address] : [],
        queryType: 0,
      };
      compiled.rules.forEach((rule, i) => {
        if (rule.match(ctx)) console.log(`match rules.[${i}]: ${rule}`);
      });
    });

  ruleSet.command("convert")
    .description("Convert adguard DNS filter to rule-set")
    .argument("[source-path]", "source file", "stdin")
    .requiredOption("-t, --type <type>", "source type, available: adguard")
    .option("-o, --output <file>", "output file (default: source with .srs)")
    .action(async (source: string, opts: { type: string; output?: string }) => {
      if (opts.type !== "adguard") throw new UsageError(`Unsupported source type: ${opts.type}`);
      const result = convertAdGuard(new TextDecoder().decode(await readInput(source)));
      if (result.ignored) console.error(`parsed rules: ${result.parsed}/${result.parsed + result.ignored}`);
      const out = outputPath(source === "stdin" ? "rule-set" : source, opts.output, ".txt", ".srs");
      await Deno.writeFile(out, writeSrs({ version: 2, rules: result.rules }));
    });
}
