/**
 * The `urltest` outbound: a group that uses the member with the lowest URL-test delay (spec
 * sing-box.md §1.2, sing-box `protocol/group/urltest.go`).
 *
 * Tests are lazy: one round runs at start, and a periodic round every `interval` runs only
 * while the group is in use; after `idle_timeout` without a dial the timer stops until the next
 * dial. A member takes over only when it is faster than the current one by more than
 * `tolerance` ms; a change interrupts connections made through the group (external ones only
 * with `interrupt_exist_connections`). A failed dial forgets that member's delay, so the next
 * round moves away from it.
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
  Socksaddr,
  Stream,
  UrlTestHistoryStorage,
} from "../../adapter/types.ts";
import { duration, intRange } from "../../config/common.ts";
import { errorMessage } from "../../common/errors.ts";
import type { Logger } from "../../common/log.ts";
import { InterruptGroup } from "../group/interrupt.ts";
import { realTag, resolveMembers } from "../group/members.ts";
import { MemoryUrlTestHistory } from "./history.ts";
import { selectMember } from "./select.ts";
import { testMembers } from "./test_members.ts";
import { parseTestUrl } from "./url_test.ts";

/** Default `interval`, ms (sing-box `C.DefaultURLTestInterval`). */
export const DEFAULT_INTERVAL_MS = 3 * 60_000;
/** Default `idle_timeout`, ms (sing-box `C.DefaultURLTestIdleTimeout`). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;
/** Default `tolerance`, ms; 0 in the config also means this, as in sing-box. */
export const DEFAULT_TOLERANCE_MS = 50;

/** Options of a `urltest` outbound (sing-box `URLTestOutboundOptions`). */
export const urltestOutboundSchema = z.strictObject({
  type: z.literal("urltest"),
  tag: z.string().optional(),
  outbounds: z.array(z.string(), { error: "expected array of outbound tags" }).min(1, {
    error: "missing tags",
  }),
  url: z.string().optional().refine((u) => {
    if (!u) return true;
    try {
      parseTestUrl(u);
      return true;
    } catch {
      return false;
    }
  }, { error: "expected an http or https URL" }),
  interval: duration.optional(),
  tolerance: intRange(0, 65535).optional(),
  idle_timeout: duration.optional(),
  interrupt_exist_connections: z.boolean().optional(),
}).refine(
  (o) => (o.interval || DEFAULT_INTERVAL_MS) <= (o.idle_timeout || DEFAULT_IDLE_TIMEOUT_MS),
  { path: ["interval"], error: "interval must be less or equal than idle_timeout" },
);

/** Parsed options. */
export type UrltestOutboundOptions = z.output<typeof urltestOutboundSchema>;

/** A group that follows the fastest member. */
export class UrltestOutbound implements OutboundGroup {
  readonly type = "urltest";
  readonly tag: string;
  readonly network: readonly Network[] = ["tcp", "udp"];
  readonly dependencies: readonly string[];
  /** Test period while in use, ms. */
  readonly intervalMs: number;
  /** Stop testing after this long without a dial, ms. */
  readonly idleTimeoutMs: number;
  /** Required improvement before switching, ms. */
  readonly toleranceMs: number;
  readonly history: UrlTestHistoryStorage;
  #tags: readonly string[];
  #link: string;
  #lookup: (tag: string) => Outbound | undefined;
  #log: Logger;
  #interruptExternal: boolean;
  readonly #interrupt = new InterruptGroup();
  #members?: Outbound[];
  #tcp?: Outbound;
  #udp?: Outbound;
  // Timer state: `#started` after start(); `#ticker` exists while the group is in use.
  #started = false;
  #ticker?: ReturnType<typeof setInterval>;
  #lastActive = 0;
  #checking?: Promise<Record<string, number>>;
  readonly #abort = new AbortController();

  constructor(ctx: OutboundContext, options: UrltestOutboundOptions) {
    this.tag = ctx.tag;
    this.#tags = options.outbounds;
    this.dependencies = options.outbounds;
    this.#link = options.url ?? "";
    this.intervalMs = options.interval || DEFAULT_INTERVAL_MS;
    this.idleTimeoutMs = options.idle_timeout || DEFAULT_IDLE_TIMEOUT_MS;
    this.toleranceMs = options.tolerance || DEFAULT_TOLERANCE_MS;
    this.history = ctx.urlTestHistory ?? new MemoryUrlTestHistory();
    this.#lookup = ctx.outbound;
    this.#log = ctx.logger;
    this.#interruptExternal = options.interrupt_exist_connections ?? false;
  }

  #resolve(): Outbound[] {
    return this.#members ??= resolveMembers(this.#tags, this.#lookup, `urltest[${this.tag}]`);
  }

  /**
   * Resolves the members and starts the first test round in the background.
   * @throws {Error} If a member tag names no outbound
   */
  start(): Promise<void> {
    this.#resolve();
    this.#started = true;
    this.#lastActive = performance.now();
    void this.urlTest();
    return Promise.resolve();
  }

  /** Stops the timer and aborts a running round. */
  async close(): Promise<void> {
    this.#started = false;
    this.#stopTicker();
    this.#abort.abort(new Error(`urltest[${this.tag}] closed`));
    await this.#checking;
  }

  now(): string {
    return (this.#tcp ?? this.#udp)?.tag ?? "";
  }

  all(): readonly string[] {
    return this.#tags;
  }

  /**
   * Runs one test round now (members tested within `interval` are skipped), then re-selects.
   * While a round runs, a second call resolves to `{}` at once, as in sing-box.
   * @returns delays in ms by member tag, for the members tested in this round
   */
  urlTest(): Promise<Record<string, number>> {
    if (this.#checking) return Promise.resolve({});
    const run = (async () => {
      try {
        const r = await testMembers(this.#resolve(), {
          link: this.#link,
          history: this.history,
          lookup: this.#lookup,
          logger: this.#log,
          signal: this.#abort.signal,
          freshMs: this.intervalMs,
        });
        if (!this.#abort.signal.aborted) this.#update();
        return r;
      } finally {
        this.#checking = undefined;
      }
    })();
    this.#checking = run;
    return run;
  }

  #delay = (o: Outbound) => this.history.load(realTag(o))?.delay;

  #select(network: Network, current: Outbound | undefined) {
    return selectMember(this.#resolve(), current, network, this.toleranceMs, this.#delay);
  }

  /** Re-selects after a round; a change of an existing choice interrupts connections. */
  #update(): void {
    let changed = false;
    const tcp = this.#select("tcp", this.#tcp);
    if (tcp.outbound && (!this.#tcp || (tcp.tested && tcp.outbound !== this.#tcp))) {
      if (this.#tcp) changed = true;
      this.#tcp = tcp.outbound;
    }
    const udp = this.#select("udp", this.#udp);
    if (udp.outbound && (!this.#udp || (udp.tested && udp.outbound !== this.#udp))) {
      if (this.#udp) changed = true;
      this.#udp = udp.outbound;
    }
    if (changed) {
      const n = this.#interrupt.interrupt(this.#interruptExternal);
      this.#log.info(`switched to ${this.now()}${n ? `, interrupted ${n} connection(s)` : ""}`);
    }
  }

  /** Marks the group in use; starts the periodic timer if it is not running (sing-box `Touch`). */
  #touch(): void {
    if (!this.#started) return;
    if (this.#ticker !== undefined) {
      this.#lastActive = performance.now();
      return;
    }
    this.#ticker = setInterval(() => this.#tick(), this.intervalMs);
    if (performance.now() - this.#lastActive > this.intervalMs) {
      this.#lastActive = performance.now();
      void this.urlTest();
    }
  }

  #tick(): void {
    if (performance.now() - this.#lastActive > this.idleTimeoutMs) {
      this.#stopTicker();
      return;
    }
    void this.urlTest();
  }

  #stopTicker(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #pick(network: Network): Outbound {
    const o = (network === "tcp" ? this.#tcp : this.#udp) ?? this.#select(network, undefined).outbound;
    if (!o) throw new Error(`urltest[${this.tag}]: missing supported outbound`);
    return o;
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    this.#touch();
    const o = this.#pick("tcp");
    try {
      return this.#interrupt.track(await o.dial(destination, options), options?.metadata !== undefined);
    } catch (e) {
      this.#log.error(`dial through ${o.tag}: ${errorMessage(e)}`);
      this.history.delete(realTag(o));
      throw e;
    }
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    this.#touch();
    const o = this.#pick("udp");
    try {
      return this.#interrupt.track(
        await o.listenPacket(destination, options),
        options?.metadata !== undefined,
      );
    } catch (e) {
      this.#log.error(`listen packet through ${o.tag}: ${errorMessage(e)}`);
      this.history.delete(realTag(o));
      throw e;
    }
  }
}
