/**
 * Rule-set providers (`route.rule_set[]`, spec sing-box.md §3.5): `inline` rules, `local` files
 * reloaded when they change, and `remote` files downloaded (through the `download_detour`
 * outbound, via the fetch function the caller supplies), cached on disk and refreshed every
 * `update_interval` (1 day by default). The format comes from `format` or the `.json`/`.srs`
 * extension.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../../common/errors.ts";
import type { Logger } from "../../common/log.ts";
import { duration } from "../../config/common.ts";
import { toConfigError } from "../../config/issues.ts";
import type { MatchContext } from "../rule/item.ts";
import type { StateSet } from "../rule/match_state.ts";
import type { RuleSetMatcher, RuleSetMatchMode } from "../rule/rule_set.ts";
import { CompiledRuleSet } from "./match.ts";
import {
  headlessRuleSchema,
  parseRuleSetSource,
  type PlainRuleSet,
  RULE_SET_VERSION_CURRENT,
} from "./source.ts";
import { readSrs } from "./srs.ts";

const DEFAULT_UPDATE_INTERVAL_MS = 24 * 3600 * 1000;

/** Schema of one `route.rule_set[]` entry. */
export const ruleSetOptionsSchema = z.union([
  z.strictObject({
    type: z.literal("inline").optional(),
    tag: z.string(),
    rules: z.array(headlessRuleSchema).optional(),
  }),
  z.strictObject({
    type: z.literal("local"),
    tag: z.string(),
    format: z.enum(["source", "binary"]).optional(),
    path: z.string(),
  }),
  z.strictObject({
    type: z.literal("remote"),
    tag: z.string(),
    format: z.enum(["source", "binary"]).optional(),
    url: z.string().url(),
    download_detour: z.string().optional(),
    update_interval: duration.optional(),
  }),
]);

/** Parsed rule-set options. */
export type RuleSetOptions = z.output<typeof ruleSetOptionsSchema>;

/** What providers need from the program. */
export interface RuleSetContext {
  /** Downloads a URL through `detour` (the outbound tag); defaults to the global fetch. */
  download?(url: string, detour: string | undefined, signal?: AbortSignal): Promise<Uint8Array>;
  /** Directory for downloaded copies (`cache_file` on). Unset: no disk cache. */
  cacheDir?: string;
  logger?: Logger;
}

/** The format from `format` or the `.srs`/`.json` extension of `name`; undefined if unknown. */
function formatOf(format: string | undefined, name: string): "source" | "binary" | undefined {
  if (format) return format as "source" | "binary";
  const base = name.split(/[?#]/)[0];
  if (base.endsWith(".srs")) return "binary";
  if (base.endsWith(".json")) return "source";
  return undefined;
}

function decode(bytes: Uint8Array, format: "source" | "binary" | undefined): PlainRuleSet {
  return format === "binary" ? readSrs(bytes) : parseRuleSetSource(new TextDecoder().decode(bytes));
}

async function defaultDownload(
  url: string,
  _detour: string | undefined,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const res = await fetch(url, { signal });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Download of rule-set "${url}" failed: HTTP ${res.status}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

/** A named rule-set whose content may change while the program runs. */
export class RuleSet implements RuleSetMatcher {
  readonly tag: string;
  readonly options: RuleSetOptions;
  #compiled: CompiledRuleSet = new CompiledRuleSet({ version: RULE_SET_VERSION_CURRENT, rules: [] });
  readonly #ctx: RuleSetContext;
  #watcher?: Deno.FsWatcher;
  #timer?: ReturnType<typeof setInterval>;
  #closed = false;
  #abort = new AbortController();
  /** Resolves after each successful (re)load; for tests and logs. */
  loads = 0;

  readonly #path: string;

  /**
   * Creates the set; inline rules are compiled at once, files are read by {@linkcode start}.
   * @param path JSON path of the entry (`route.rule_set[0]`), for errors in inline rules; rules
   *   read from a file are named `rule_set[<tag>].rules[i]`
   * @throws {ConfigError} If an inline rule holds an invalid regex or port range
   */
  constructor(options: RuleSetOptions, ctx: RuleSetContext = {}, path?: string) {
    this.tag = options.tag;
    this.options = options;
    this.#ctx = ctx;
    const inline = options.type === undefined || options.type === "inline";
    this.#path = inline && path ? path : `rule_set[${options.tag}]`;
    if (options.type === undefined || options.type === "inline") {
      this.#set({ version: RULE_SET_VERSION_CURRENT, rules: options.rules ?? [] });
    }
  }

  get hasDestinationIpCidr(): boolean {
    return this.#compiled.hasDestinationIpCidr;
  }

  /** True when the current content has process items (`process_name`, …). */
  get containsProcessRule(): boolean {
    return this.#compiled.containsProcessRule;
  }

  match(ctx: MatchContext, mode: RuleSetMatchMode = {}): boolean {
    return this.#compiled.match(ctx, mode);
  }

  states(ctx: MatchContext, base: number, mode: RuleSetMatchMode = {}): StateSet {
    return this.#compiled.states(ctx, base, mode);
  }

  #set(set: PlainRuleSet): void {
    this.#compiled = new CompiledRuleSet(set, this.#path, this.#ctx.logger);
    this.loads++;
  }

  /**
   * Loads the content: reads a local file and starts watching it, or loads a remote set from
   * the cache or the network and schedules updates.
   *
   * @throws {Error} If a local file cannot be read or parsed, or a remote set has neither a
   *   cached copy nor a successful download
   */
  async start(): Promise<void> {
    const o = this.options;
    if (o.type === "local") {
      await this.#loadLocal();
      this.#watch(o.path);
    } else if (o.type === "remote") {
      await this.#startRemote();
    }
  }

  async #loadLocal(): Promise<void> {
    const o = this.options as Extract<RuleSetOptions, { type: "local" }>;
    this.#set(decode(await Deno.readFile(o.path), formatOf(o.format, o.path)));
  }

  #watch(path: string): void {
    try {
      this.#watcher = Deno.watchFs(path);
    } catch (e) {
      this.#ctx.logger?.warn(`rule-set[${this.tag}]: cannot watch ${path}: ${(e as Error).message}`);
      return;
    }
    const watcher = this.#watcher;
    (async () => {
      let pending: ReturnType<typeof setTimeout> | undefined;
      for await (const event of watcher) {
        if (event.kind !== "modify" && event.kind !== "create") continue;
        clearTimeout(pending);
        pending = setTimeout(() => {
          this.#loadLocal().then(
            () => this.#ctx.logger?.info(`rule-set[${this.tag}]: reloaded ${path}`),
            (e) => this.#ctx.logger?.error(`rule-set[${this.tag}]: reload failed: ${(e as Error).message}`),
          );
        }, 50);
      }
      clearTimeout(pending);
    })();
  }

  #cachePath(): string | undefined {
    const o = this.options as Extract<RuleSetOptions, { type: "remote" }>;
    if (!this.#ctx.cacheDir) return undefined;
    const ext = formatOf(o.format, o.url) === "binary" ? "srs" : "json";
    return `${this.#ctx.cacheDir}/${encodeURIComponent(this.tag)}.${ext}`;
  }

  async #startRemote(): Promise<void> {
    const o = this.options as Extract<RuleSetOptions, { type: "remote" }>;
    const interval = o.update_interval ?? DEFAULT_UPDATE_INTERVAL_MS;
    const cache = this.#cachePath();
    let fresh = false;
    if (cache) {
      try {
        const stat = await Deno.stat(cache);
        this.#set(decode(await Deno.readFile(cache), formatOf(o.format, o.url)));
        fresh = Date.now() - (stat.mtime?.getTime() ?? 0) < interval;
      } catch { /* no usable cache */ }
    }
    if (!fresh) {
      try {
        await this.update();
      } catch (e) {
        if (!this.loads) throw e;
        this.#ctx.logger?.warn(`rule-set[${this.tag}]: update failed, using cache: ${(e as Error).message}`);
      }
    }
    this.#timer = setInterval(() => {
      this.update().catch((e) =>
        this.#ctx.logger?.error(`rule-set[${this.tag}]: update failed: ${(e as Error).message}`)
      );
    }, interval);
  }

  /** Downloads a remote set now and stores it in the cache. */
  async update(): Promise<void> {
    const o = this.options;
    if (o.type !== "remote" || this.#closed) return;
    const bytes = await (this.#ctx.download ?? defaultDownload)(o.url, o.download_detour, this.#abort.signal);
    this.#set(decode(bytes, formatOf(o.format, o.url)));
    const cache = this.#cachePath();
    if (cache) {
      await Deno.mkdir(this.#ctx.cacheDir!, { recursive: true });
      await Deno.writeFile(cache, bytes);
    }
  }

  /** Stops watching and updating. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#abort.abort();
    clearInterval(this.#timer);
    this.#watcher?.close();
    return Promise.resolve();
  }
}

/**
 * Validates `route.rule_set[]` and creates every rule-set (inline ones are compiled, nothing is
 * read yet). Start them with {@linkcode startRuleSets}.
 *
 * @param ctx download, cache and logging for the sets
 * @param checkDetour tells whether a `download_detour` outbound exists
 * @throws {ConfigError} If an entry is invalid, a tag repeats, the format cannot be inferred or a
 *   `download_detour` names no outbound (the message names the JSON path)
 */
export function createRuleSets(
  list: readonly unknown[],
  ctx: RuleSetContext = {},
  checkDetour: (tag: string) => boolean = () => true,
): Map<string, RuleSet> {
  const sets = new Map<string, RuleSet>();
  list.forEach((raw, i) => {
    const path = `route.rule_set[${i}]`;
    const parsed = ruleSetOptionsSchema.safeParse(raw);
    if (!parsed.success) throw toConfigError(parsed.error, path);
    const o = parsed.data;
    if (sets.has(o.tag)) throw new ConfigError(`${path}.tag`, `duplicate rule-set tag "${o.tag}"`);
    if (o.type === "local" || o.type === "remote") {
      const name = o.type === "local" ? o.path : o.url;
      if (!formatOf(o.format, name)) {
        throw new ConfigError(
          `${path}.format`,
          `cannot infer the format of "${name}" (no .json/.srs): set format`,
        );
      }
    }
    if (o.type === "remote" && o.download_detour !== undefined && !checkDetour(o.download_detour)) {
      throw new ConfigError(`${path}.download_detour`, `outbound "${o.download_detour}" not found`);
    }
    sets.set(o.tag, new RuleSet(o, ctx, path));
  });
  return sets;
}

/**
 * Loads every rule-set concurrently (local files, cached or downloaded remote sets); on failure
 * the ones already started are closed again.
 *
 * @throws {Error} `Cannot load rule-set "<tag>": <reason>` for the first set that fails
 */
export async function startRuleSets(sets: ReadonlyMap<string, RuleSet>): Promise<void> {
  try {
    await Promise.all([...sets.values()].map((s) =>
      s.start().catch((e) => {
        throw new Error(`Cannot load rule-set "${s.tag}": ${(e as Error).message}`, { cause: e });
      })
    ));
  } catch (e) {
    await closeRuleSets(sets);
    throw e;
  }
}

/** Closes rule-sets (stops file watchers and update timers). */
export async function closeRuleSets(sets: ReadonlyMap<string, RuleSet>): Promise<void> {
  await Promise.all([...sets.values()].map((s) => s.close()));
}
