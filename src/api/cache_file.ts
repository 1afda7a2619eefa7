/**
 * `experimental.cache_file` (spec sing-box.md §5.3): state that survives restarts — each
 * selector's choice, the Clash mode, and with `store_fakeip` / `store_rdrc` the fake-IP table and
 * the rejected-DNS-response cache.
 *
 * Divergence from sing-box: sing-box keeps this in a bbolt database; Switchyard cannot write
 * bbolt and stores one JSON document at the same `path` (default `cache.db`) instead, so a file
 * written by one cannot be read by the other (an unreadable file is set aside and started
 * afresh, as sing-box does with a corrupt database). Layout:
 *
 * ```json
 * { "version": 1,
 *   "namespaces": { "": { "selected": { "group": "member" }, "clash_mode": "Rule" } },
 *   "fakeip": { "metadata": { "inet4Range": "198.18.0.0/15", "inet4Current": "198.18.0.3" },
 *               "entries": [["198.18.0.2", "example.com"]] },
 *   "rdrc": { "server\u0000example.com\u00001": 1767225600000 } }
 * ```
 *
 * `namespaces` is keyed by `cache_id` (`""` without one), as sing-box namespaces its selected and
 * mode buckets; fake-IP and RDRC data are shared. Nothing is written before `start()` (so
 * `switchyard check` leaves the file alone); after it, changes are written after a short
 * debounce, atomically (temporary file, then rename), and once more on close.
 *
 * @module
 */
import { z } from "zod";
import type { SelectionStore } from "../adapter/types.ts";
import { duration } from "../config/common.ts";
import { errorMessage } from "../common/errors.ts";
import type { Logger } from "../common/log.ts";
import type { RdrcStore } from "../dns/client.ts";
import { type FakeIpMetadata, type FakeIpStorage, MemoryFakeIpStorage } from "../dns/transports/fakeip.ts";

/** Schema of `experimental.cache_file`. */
export const cacheFileSchema = z.strictObject({
  enabled: z.boolean().optional(),
  path: z.string().optional(),
  cache_id: z.string().optional(),
  store_fakeip: z.boolean().optional(),
  store_rdrc: z.boolean().optional(),
  rdrc_timeout: duration.optional(),
});

/** Parsed `experimental.cache_file`. */
export type CacheFileOptions = z.output<typeof cacheFileSchema>;

/** Default `path`. */
export const DEFAULT_CACHE_PATH = "cache.db";
/** Default `rdrc_timeout`, ms (sing-box: 7 days). */
export const DEFAULT_RDRC_TIMEOUT_MS = 7 * 24 * 3600_000;
/** Delay between a change and the write, ms. */
export const DEFAULT_DEBOUNCE_MS = 1000;

interface Namespace {
  selected: Record<string, string>;
  clash_mode?: string;
}

interface CacheDocument {
  version: 1;
  namespaces: Record<string, Namespace>;
  fakeip?: { metadata?: FakeIpMetadata; entries: [string, string][] };
  /** Expiry (ms since the epoch) by `transport NUL name NUL qtype`. */
  rdrc?: Record<string, number>;
}

const documentSchema = z.object({
  version: z.literal(1),
  namespaces: z.record(
    z.string(),
    z.object({ selected: z.record(z.string(), z.string()), clash_mode: z.string().optional() }),
  ),
  fakeip: z.object({
    metadata: z.object({
      inet4Range: z.string().optional(),
      inet6Range: z.string().optional(),
      inet4Current: z.string().optional(),
      inet6Current: z.string().optional(),
    }).optional(),
    entries: z.array(z.tuple([z.string(), z.string()])),
  }).optional(),
  rdrc: z.record(z.string(), z.number()).optional(),
});

/** A fake-IP table kept in the cache file; every change calls `onChange` (set once loaded). */
class CachedFakeIpStorage extends MemoryFakeIpStorage {
  onChange: () => void = () => {};
  override saveMetadata(metadata: FakeIpMetadata): void {
    super.saveMetadata(metadata);
    this.onChange();
  }
  override store(address: string, domain: string): void {
    super.store(address, domain);
    this.onChange();
  }
  override reset(): void {
    super.reset();
    this.onChange();
  }
}

/** Options of {@linkcode CacheFile}. */
export interface CacheFileInit {
  /** File path. @default {DEFAULT_CACHE_PATH} */
  path?: string;
  /** Namespace of the selected choices and the mode (`cache_id`). */
  cacheId?: string;
  storeFakeip?: boolean;
  storeRdrc?: boolean;
  /** Lifetime of an RDRC entry, ms. @default {DEFAULT_RDRC_TIMEOUT_MS} */
  rdrcTimeoutMs?: number;
  /** Write delay after a change, ms. @default {DEFAULT_DEBOUNCE_MS} */
  debounceMs?: number;
  logger?: Logger;
}

/** The cache file: loaded when constructed, written after changes, flushed on close. */
export class CacheFile implements SelectionStore {
  readonly path: string;
  #doc: CacheDocument;
  #ns: Namespace;
  readonly #cacheId: string;
  readonly #fakeip?: CachedFakeIpStorage;
  #rdrcTimeoutMs: number;
  #storeRdrc: boolean;
  #debounceMs: number;
  #log?: Logger;
  #timer?: ReturnType<typeof setTimeout>;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;
  #started = false;
  #closed = false;

  /** Reads the file (a missing file is an empty cache; an unreadable one is moved to `<path>.bad`). */
  constructor(init: CacheFileInit = {}) {
    this.path = init.path || DEFAULT_CACHE_PATH;
    this.#log = init.logger;
    this.#debounceMs = init.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#rdrcTimeoutMs = init.rdrcTimeoutMs || DEFAULT_RDRC_TIMEOUT_MS;
    this.#storeRdrc = init.storeRdrc ?? false;
    this.#cacheId = init.cacheId ?? "";
    if (init.storeFakeip) this.#fakeip = new CachedFakeIpStorage();
    this.#doc = this.#load();
    this.#ns = this.#namespace();
  }

  /**
   * Reads the file again before start, so an instance built during a SIGHUP reload sees what the
   * previous instance flushed when its inbounds closed.
   * @throws {Error} If already started, or if the file cannot be read
   */
  reread(): void {
    if (this.#started) throw new Error("cache file already started");
    this.#doc = this.#load();
    this.#ns = this.#namespace();
  }

  #namespace(): Namespace {
    return this.#doc.namespaces[this.#cacheId] ??= { selected: {} };
  }

  /** Reads the document and refills the fake-IP table from it. */
  #load(): CacheDocument {
    const doc = this.#read();
    const storage = this.#fakeip;
    if (storage) {
      storage.onChange = () => {};
      storage.reset();
      if (doc.fakeip?.metadata) storage.saveMetadata(doc.fakeip.metadata);
      for (const [address, domain] of doc.fakeip?.entries ?? []) storage.store(address, domain);
      storage.onChange = () => this.#changed();
    }
    return doc;
  }

  #read(): CacheDocument {
    const empty: CacheDocument = { version: 1, namespaces: {} };
    let text: string;
    try {
      text = Deno.readTextFileSync(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return empty;
      throw new Error(`Cannot read cache file "${this.path}": ${errorMessage(e)}`, { cause: e });
    }
    try {
      return documentSchema.parse(JSON.parse(text)) as CacheDocument;
    } catch (e) {
      this.#log?.warn(`cache file "${this.path}" is unreadable (${errorMessage(e)}); starting afresh`);
      try {
        Deno.renameSync(this.path, `${this.path}.bad`);
      } catch { /* keep going with an empty cache */ }
      return empty;
    }
  }

  loadSelected(group: string): string | undefined {
    return this.#ns.selected[group];
  }

  storeSelected(group: string, selected: string): void {
    if (this.#ns.selected[group] === selected) return;
    this.#ns.selected[group] = selected;
    this.#changed();
  }

  /** The stored Clash mode, or undefined. */
  loadMode(): string | undefined {
    return this.#ns.clash_mode;
  }

  /** Stores the Clash mode. */
  storeMode(mode: string): void {
    if (this.#ns.clash_mode === mode) return;
    this.#ns.clash_mode = mode;
    this.#changed();
  }

  /** The persistent fake-IP table, or undefined without `store_fakeip`. */
  get fakeIpStorage(): FakeIpStorage | undefined {
    return this.#fakeip;
  }

  /** The persistent rejected-response cache, or undefined without `store_rdrc`. */
  get rdrcStore(): RdrcStore | undefined {
    if (!this.#storeRdrc) return undefined;
    const key = (t: string, n: string, q: number) => `${t}\u0000${n}\u0000${q}`;
    return {
      load: (t, n, q) => {
        const k = key(t, n, q);
        const expires = this.#doc.rdrc?.[k];
        if (expires === undefined) return false;
        if (expires > Date.now()) return true;
        delete this.#doc.rdrc![k];
        this.#changed();
        return false;
      },
      save: (t, n, q) => {
        (this.#doc.rdrc ??= {})[key(t, n, q)] = Date.now() + this.#rdrcTimeoutMs;
        this.#changed();
      },
    };
  }

  /** Allows writing; changes made before (while the box is built) are written now, debounced. */
  start(): void {
    this.#started = true;
    if (this.#dirty) this.#schedule();
  }

  #changed(): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#started) this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#writing.then(() => this.#write()).catch((e) => {
        this.#log?.error(`write cache file "${this.path}": ${errorMessage(e)}`);
      });
    }, this.#debounceMs);
  }

  #serialize(): string {
    if (this.#fakeip) {
      this.#doc.fakeip = { metadata: this.#fakeip.loadMetadata(), entries: this.#fakeip.entries() };
    }
    return JSON.stringify(this.#doc);
  }

  async #write(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const tmp = `${this.path}.tmp`;
    await Deno.writeTextFile(tmp, this.#serialize());
    await Deno.rename(tmp, this.path);
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#write());
    await this.#writing;
  }

  /**
   * Writes pending changes (if started) and stops writing; later changes stay in memory only.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return await this.#writing.catch(() => {});
    this.#closed = true;
    if (!this.#started) return;
    await this.flush().catch((e) => this.#log?.error(`write cache file "${this.path}": ${errorMessage(e)}`));
  }
}
