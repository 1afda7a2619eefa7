import type { Command } from "commander";
import { readConfigDocuments } from "../config/load.ts";
import { parseConfig } from "../config/config.ts";
import { mergeJson } from "../config/merge.ts";
import { registries } from "../include/registry.ts";
import { globalOptions, readConfig } from "./_config.ts";

/** Pretty JSON as sing-box writes it: two-space indent and a final newline. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/**
 * Registers `format [-w]` (print each config formatted, or rewrite the files) and
 * `merge <output>` (write the merged config). Both validate first.
 */
export function registerFormat(program: Command): void {
  program.command("format")
    .description("Format configuration")
    .option("-w, --write", "write result to (source) file instead of stdout")
    .action(async (opts: { write?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const docs = await readConfigDocuments({ config: g.config ?? [], configDirectory: g.configDirectory });
      parseConfig(docs.map((d) => d.json).reduce((a, b) => mergeJson(a, b)), registries());
      for (const doc of docs) {
        const text = formatJson(doc.json);
        if (!opts.write) {
          Deno.stdout.writeSync(new TextEncoder().encode(text));
          continue;
        }
        if (doc.path === "stdin") throw new Error("Cannot write formatted config back to stdin");
        if (await Deno.readTextFile(doc.path) !== text) {
          await Deno.writeTextFile(doc.path, text);
          console.error(doc.path);
        }
      }
    });
  program.command("merge")
    .description("Merge configurations")
    .argument("<output>", "output file path")
    .action(async (output: string, _opts: unknown, cmd: Command) => {
      const json = await readConfig(globalOptions(cmd));
      parseConfig(json, registries());
      const text = formatJson(json);
      const old = await Deno.readTextFile(output).catch(() => null);
      if (old !== text) await Deno.writeTextFile(output, text);
    });
}
