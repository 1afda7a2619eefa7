/**
 * Typed protocol registries (sing-box `adapter/inbound/registry.go`). Each protocol registers
 * a zod schema for its options and a constructor; the config loader reads `type` first and
 * validates the rest of the object with that type's schema. `src/include/registry.ts` is the
 * one list that fills them.
 *
 * @module
 */
import type { z } from "zod";
import type { Logger } from "../common/log.ts";
import type { DialFieldsOptions } from "../config/common.ts";
import type {
  ConnectionRouter,
  Dialer,
  Inbound,
  Outbound,
  SelectionStore,
  UrlTestHistoryStorage,
} from "./types.ts";

/** What an inbound constructor receives besides its options. */
export interface InboundContext {
  tag: string;
  router: ConnectionRouter;
  logger: Logger;
}

/** What an outbound constructor receives besides its options. */
export interface OutboundContext {
  tag: string;
  logger: Logger;
  /**
   * Returns the dialer for an outbound's dial fields: the system dialer, or the `detour`
   * outbound looked up lazily by tag.
   */
  dialer(options: DialFieldsOptions): Dialer;
  /** Looks up another outbound by tag (groups, detours); undefined if absent. */
  outbound(tag: string): Outbound | undefined;
  /** Persisted selector choices; absent without `experimental.cache_file`. */
  cacheFile?: SelectionStore;
  /** URL-test results shared with the Clash API; a group keeps its own when absent. */
  urlTestHistory?: UrlTestHistoryStorage;
}

/** One registered protocol type. */
export interface Definition<O, C, T> {
  type: string;
  /** Validates the whole JSON object (including `type` and `tag`). Must be strict. */
  schema: z.ZodType<O>;
  create(ctx: C, options: O): T;
}

/** A registry of protocol types for one kind (inbound or outbound). */
export class Registry<C, T> {
  readonly kind: string;
  #types = new Map<string, Definition<any, C, T>>();

  /** @param kind `"inbound"` or `"outbound"`, used in error messages */
  constructor(kind: string) {
    this.kind = kind;
  }

  /**
   * Registers a type.
   * @throws {TypeError} If the type is already registered
   */
  register<O>(def: Definition<O, C, T>): void {
    if (this.#types.has(def.type)) {
      throw new TypeError(`Cannot register ${this.kind} type "${def.type}": already registered`);
    }
    this.#types.set(def.type, def);
  }

  /** Returns the definition for `type`, or undefined. */
  get(type: string): Definition<unknown, C, T> | undefined {
    return this.#types.get(type);
  }

  /** Registered type names, sorted. */
  types(): string[] {
    return [...this.#types.keys()].sort();
  }
}

/** Registry of inbound types. */
export type InboundRegistry = Registry<InboundContext, Inbound>;
/** Registry of outbound types. */
export type OutboundRegistry = Registry<OutboundContext, Outbound>;
