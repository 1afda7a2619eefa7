/**
 * Reads config documents as sing-box's CLI does: every `-c FILE` in order (`stdin` reads
 * standard input), then every `*.json` in `-C DIR` sorted by name; all are merged
 * (`mergeJson`). Defaults to `config.json` when neither is given.
 *
 * @module
 */
import { ConfigError } from "../common/errors.ts";
import { type Json, mergeJson } from "./merge.ts";

/** Where configs come from. */
export interface ConfigSources {
  /** Files in order; `"stdin"` reads standard input. */
  config: string[];
  /** A directory whose `*.json` files are read in name order. */
  configDirectory?: string;
}

/** One read document with its origin. */
export interface ConfigDocument {
  path: string;
  json: Json;
}

async function readText(path: string): Promise<string> {
  if (path === "stdin") return await new Response(Deno.stdin.readable).text();
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError("", `Cannot read config "${path}": ${(e as Error).message}`);
  }
}

/**
 * Parses JSON text, throwing a ConfigError that names the file and position on failure.
 * @throws {ConfigError} If the text is not JSON
 */
export function decodeJson(text: string, path: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new ConfigError("", `Cannot decode config "${path}": ${(e as Error).message}`);
  }
}

/** Lists the files named by `sources`, in merge order. */
export async function listConfigPaths(sources: ConfigSources): Promise<string[]> {
  const paths = [...sources.config];
  if (sources.configDirectory) {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(sources.configDirectory)) {
        if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
      }
    } catch (e) {
      throw new ConfigError(
        "",
        `Cannot read config directory "${sources.configDirectory}": ${(e as Error).message}`,
      );
    }
    names.sort();
    for (const n of names) paths.push(`${sources.configDirectory.replace(/\/$/, "")}/${n}`);
  }
  if (paths.length === 0) paths.push("config.json");
  return paths;
}

/** Reads and decodes every document named by `sources`. */
export async function readConfigDocuments(sources: ConfigSources): Promise<ConfigDocument[]> {
  const docs: ConfigDocument[] = [];
  for (const path of await listConfigPaths(sources)) {
    docs.push({ path, json: decodeJson(await readText(path), path) });
  }
  return docs;
}

/**
 * Reads, decodes and merges every document named by `sources` into one JSON value.
 * @throws {ConfigError} If a file cannot be read or decoded
 */
export async function readMergedConfig(sources: ConfigSources): Promise<Json> {
  const docs = await readConfigDocuments(sources);
  return docs.map((d) => d.json).reduce((a, b) => mergeJson(a, b));
}
