/**
 * The `selector` outbound: a group whose member is chosen by hand, through the Clash API
 * (`PUT /proxies/{name}`) (spec sing-box.md §1.2). The choice survives restarts when
 * `experimental.cache_file` is enabled; otherwise it starts at `default`, or the first member.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
import type {
  DialOptions,
  Network,
  Outbound,
  OutboundGroup,
  PacketConn,
  SelectionStore,
  Socksaddr,
  Stream,
} from "../../adapter/types.ts";
import type { Logger } from "../../common/log.ts";
import { InterruptGroup } from "../group/interrupt.ts";
import { resolveMembers } from "../group/members.ts";

/** Options of a `selector` outbound (sing-box `SelectorOutboundOptions`). */
export const selectorOutboundSchema = z.strictObject({
  type: z.literal("selector"),
  tag: z.string().optional(),
  outbounds: z.array(z.string(), { error: "expected array of outbound tags" }).min(1, {
    error: "missing tags",
  }),
  default: z.string().optional(),
  interrupt_exist_connections: z.boolean().optional(),
}).refine((o) => !o.default || o.outbounds.includes(o.default), {
  path: ["default"],
  error: "default outbound not found in outbounds",
});

/** Parsed options. */
export type SelectorOutboundOptions = z.output<typeof selectorOutboundSchema>;

/** A manually selected group. Members are looked up by tag when first needed. */
export class SelectorOutbound implements OutboundGroup {
  readonly type = "selector";
  readonly tag: string;
  readonly dependencies: readonly string[];
  #tags: readonly string[];
  #default?: string;
  #lookup: (tag: string) => Outbound | undefined;
  #cache?: SelectionStore;
  #log: Logger;
  #interruptExternal: boolean;
  #members?: Map<string, Outbound>;
  #selected?: Outbound;
  readonly #interrupt = new InterruptGroup();

  constructor(ctx: OutboundContext, options: SelectorOutboundOptions) {
    this.tag = ctx.tag;
    this.#tags = options.outbounds;
    this.dependencies = options.outbounds;
    this.#default = options.default || undefined;
    this.#lookup = ctx.outbound;
    this.#cache = ctx.cacheFile;
    this.#log = ctx.logger;
    this.#interruptExternal = options.interrupt_exist_connections ?? false;
  }

  /** Networks of the selected member (both before one is resolved). */
  get network(): readonly Network[] {
    return this.#selected?.network ?? ["tcp", "udp"];
  }

  /**
   * Resolves the members and restores the stored choice (if it is still a member), else
   * `default`, else the first member.
   * @throws {Error} If a member tag names no outbound
   */
  start(): Promise<void> {
    this.#resolve();
    return Promise.resolve();
  }

  #resolve(): Outbound {
    if (this.#selected) return this.#selected;
    const list = resolveMembers(this.#tags, this.#lookup, `selector[${this.tag}]`);
    this.#members = new Map(this.#tags.map((t, i) => [t, list[i]!]));
    const stored = this.#cache?.loadSelected(this.tag);
    const pick = (stored !== undefined && this.#members.has(stored))
      ? stored
      : (this.#default ?? this.#tags[0]!);
    this.#selected = this.#members.get(pick)!;
    return this.#selected;
  }

  now(): string {
    return this.#selected?.tag ?? this.#default ?? this.#tags[0]!;
  }

  all(): readonly string[] {
    return this.#tags;
  }

  /**
   * Switches to member `tag`; stores the choice and interrupts connections made through the
   * previous member (external ones only with `interrupt_exist_connections`).
   * @returns false if `tag` is not a member
   */
  select(tag: string): boolean {
    this.#resolve();
    const next = this.#members!.get(tag);
    if (!next) return false;
    if (next === this.#selected) return true;
    this.#selected = next;
    this.#cache?.storeSelected(this.tag, tag);
    const n = this.#interrupt.interrupt(this.#interruptExternal);
    this.#log.info(`selected ${tag}${n ? `, interrupted ${n} connection(s)` : ""}`);
    return true;
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    const s = await this.#resolve().dial(destination, options);
    return this.#interrupt.track(s, options?.metadata !== undefined);
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    const c = await this.#resolve().listenPacket(destination, options);
    return this.#interrupt.track(c, options?.metadata !== undefined);
  }
}
