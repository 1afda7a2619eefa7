/**
 * The router (sing-box `route.Router`): matches rules against a connection's metadata, applies
 * non-final actions, then either rejects or dials the chosen outbound and relays. It never
 * knows a protocol; inbounds reach it through {@linkcode ConnectionRouter}.
 *
 * @module
 */
import {
  type ConnectionRouter,
  type HandshakeHooks,
  type Metadata,
  type Outbound,
  type PacketConn,
  RejectedError,
  type Socksaddr,
  type Stream,
} from "../adapter/types.ts";
import { errorMessage } from "../common/errors.ts";
import type { Logger } from "../common/log.ts";
import { relayPackets } from "../common/packet_relay.ts";
import { relay } from "../common/relay.ts";
import { formatAddr, isIP } from "../common/socks_addr.ts";
import { formatAction, type RouteOptionsAction, type RuleAction } from "./action.ts";
import type { DnsRouter } from "../dns/router.ts";
import { serveDnsPackets, serveDnsStream } from "../dns/serve.ts";
import type { Rule } from "./rule/compile.ts";
import { FirstMatch } from "./rule/first_match.ts";
import { matchContext } from "./rule/item.ts";
import type { ProcessSearcher } from "./process/searcher.ts";
import { ConnectionTracker, outboundChain } from "./tracker.ts";
import { peekPackets, peekStream } from "./peek.ts";
import {
  newQuicSniffContext,
  skipSniffPort,
  sniffPacket,
  type SniffResult,
  sniffStream,
} from "./sniff/mod.ts";

/** Options of {@linkcode Router}. */
export interface RouterOptions {
  rules: Rule[];
  outbounds: ReadonlyMap<string, Outbound>;
  /** Tag of the outbound used when no final rule matches. */
  final: string;
  logger: Logger;
  /** The DNS subsystem, for the `hijack-dns` and `resolve` actions. */
  dns?: DnsRouter;
  /** Idle timeout of TCP relays, ms. 0 disables. @default 0 */
  tcpIdleTimeoutMs?: number;
  /** Looks up the local process of each connection before matching (process rules, `find_process`). */
  processSearcher?: ProcessSearcher;
}

/** Where matching resumes after a non-final step that needs I/O (sniff). */
export interface MatchState {
  /** Index of the next rule to test. */
  index: number;
  /** route-options accumulated so far. */
  options: RouteOptionsAction;
}

/** The routing decision for one connection, or a sniff step to perform before continuing. */
export type Decision =
  | { kind: "route"; outbound: Outbound; rule: string; options: RouteOptionsAction }
  | { kind: "reject"; method: "default" | "drop"; rule: string }
  | { kind: "hijack-dns"; rule: string }
  | { kind: "sniff"; sniffers?: string[]; timeoutMs: number; rule: string; next: MatchState }
  | { kind: "resolve"; action: Extract<RuleAction, { type: "resolve" }>; rule: string; next: MatchState };

/** A decision that ends matching. */
export type FinalDecision = Exclude<Decision, { kind: "sniff" | "resolve" }>;

/** Within this window, more than DROP_THRESHOLD rejections switch `reject` to drop (§3.4). */
const DROP_WINDOW_MS = 30_000;
const DROP_THRESHOLD = 50;

/** Routes connections from inbounds to outbounds. */
export class Router implements ConnectionRouter {
  readonly tracker: ConnectionTracker = new ConnectionTracker();
  #o: RouterOptions;
  #log: Logger;
  #rejectTimes = new Map<Rule, number[]>();
  readonly #first: FirstMatch;
  /** `rule => action` per rule, built on first use (a rule may print thousands of values). */
  readonly #descs: string[] = [];
  readonly #options: RouteOptionsAction[] = [];

  constructor(options: RouterOptions) {
    this.#o = { ...options };
    this.#log = options.logger;
    this.#first = new FirstMatch(options.rules.map((r) => r.matcher));
  }

  /** Sets or clears the process searcher (decided once rule-sets are loaded). */
  setProcessSearcher(searcher: ProcessSearcher | undefined): void {
    this.#o.processSearcher = searcher;
  }

  /** The route options a rule sets (undefined fields dropped), built on first use. */
  #definedOptions(i: number): RouteOptionsAction {
    const a = this.#o.rules[i]!.action as { options?: RouteOptionsAction };
    return this.#options[i] ??= definedOnly(a.options ?? {});
  }

  #describe(i: number): string {
    const rule = this.#o.rules[i]!;
    return this.#descs[i] ??= `${rule.matcher} => ${formatAction(rule.action)}`;
  }

  /** Looks up an outbound by tag. */
  outbound(tag: string): Outbound | undefined {
    return this.#o.outbounds.get(tag);
  }

  /** The compiled route rules in config order (Clash API `/rules`). */
  get rules(): readonly Rule[] {
    return this.#o.rules;
  }

  /** Registers a live connection with the tracker (Clash API `/connections`); returns its removal. */
  #track(
    id: number,
    metadata: Metadata,
    rule: string,
    outbound: Outbound,
    counters: { upload: number; download: number },
    abort: AbortController,
  ): () => void {
    const chains = outboundChain(outbound, (t) => this.#o.outbounds.get(t));
    return this.tracker.add({
      id,
      metadata,
      rule,
      outbound: outbound.tag,
      chains,
      start: Date.now(),
      counters,
      abort,
    });
  }

  /**
   * Matches the rules against `metadata` from `state` on (pure apart from the reject-rate
   * bookkeeping). A `sniff` decision asks the caller to sniff, then call again with `next`.
   */
  decide(
    metadata: Metadata,
    now = performance.now(),
    state: MatchState = { index: 0, options: {} },
  ): Decision {
    const ctx = matchContext(metadata);
    let options: RouteOptionsAction = state.options;
    const rules = this.#o.rules;
    for (let i = this.#first.find(ctx, state.index); i >= 0; i = this.#first.find(ctx, i + 1)) {
      const rule = rules[i]!;
      const a = rule.action;
      const desc = this.#describe(i);
      if (a.type === "route-options") {
        options = { ...options, ...this.#definedOptions(i) };
        continue;
      }
      if (a.type === "hijack-dns") return { kind: "hijack-dns", rule: desc };
      if (a.type === "resolve") {
        return { kind: "resolve", action: a, rule: desc, next: { index: i + 1, options } };
      }
      if (a.type === "sniff") {
        return {
          kind: "sniff",
          sniffers: a.sniffers,
          timeoutMs: a.timeoutMs,
          rule: desc,
          next: { index: i + 1, options },
        };
      }
      if (a.type === "reject") {
        let method = a.method;
        if (method === "default" && !a.noDrop) {
          const times = (this.#rejectTimes.get(rule) ?? []).filter((t) => now - t < DROP_WINDOW_MS);
          times.push(now);
          this.#rejectTimes.set(rule, times);
          if (times.length > DROP_THRESHOLD) method = "drop";
        }
        return { kind: "reject", method, rule: desc };
      }
      options = { ...options, ...this.#definedOptions(i) };
      return { kind: "route", outbound: this.#o.outbounds.get(a.outbound)!, rule: desc, options };
    }
    return { kind: "route", outbound: this.#o.outbounds.get(this.#o.final)!, rule: "final", options };
  }

  #target(metadata: Metadata, options: RouteOptionsAction): Socksaddr {
    return {
      host: options.override_address ?? metadata.destination.host,
      port: options.override_port ?? metadata.destination.port,
    };
  }

  async routeConnection(stream: Stream, metadata: Metadata, hooks: HandshakeHooks = {}): Promise<void> {
    const id = randomId();
    const log = prefixed(this.#log, id);
    log.info(
      `inbound/${metadata.inboundType}[${metadata.inbound}]: inbound connection from ${
        formatAddr(metadata.source)
      }`,
    );
    log.info(
      `inbound/${metadata.inboundType}[${metadata.inbound}]: inbound connection to ${
        formatAddr(metadata.destination)
      }`,
    );
    let replied = false;
    let d: FinalDecision;
    try {
      d = await this.#walk(metadata, log, async (sniff) => {
        if (!replied && hooks.onSuccess) {
          // A client sends its first bytes only after the inbound's success reply (as sing-box does).
          await hooks.onSuccess();
          replied = true;
        }
        if (skipSniffPort(metadata.destination.port)) return;
        let result: SniffResult | null = null;
        const peeked = await peekStream(stream, sniff.timeoutMs, (bytes) => {
          const r = sniffStream(bytes, sniff.sniffers);
          if (r === "need-more") return false;
          result = r;
          return true;
        });
        stream = peeked.stream;
        applySniff(metadata, result, log);
      });
    } catch (e) {
      await this.#fail(stream, replied ? {} : hooks, log, asError(e));
      return;
    }
    return await this.#connect(stream, metadata, replied ? {} : hooks, d, log, id);
  }

  async #connect(
    stream: Stream,
    metadata: Metadata,
    hooks: HandshakeHooks,
    d: FinalDecision,
    log: Logger,
    id: number,
  ): Promise<void> {
    log.debug(`router: match ${d.rule}`);
    if (d.kind === "hijack-dns") {
      if (!this.#o.dns) {
        return await this.#fail(stream, hooks, log, new Error("hijack-dns: no DNS configured"));
      }
      try {
        await hooks.onSuccess?.();
      } catch {
        closeQuietly(stream);
        return;
      }
      log.info(`router: hijack DNS stream from ${formatAddr(metadata.source)}`);
      return await serveDnsStream(this.#o.dns, stream, metadata, log);
    }
    if (d.kind === "reject") {
      const err = new RejectedError(
        `Connection to "${formatAddr(metadata.destination)}" rejected by rule: ${d.rule}`,
      );
      log.info(`router: ${err.message}`);
      if (d.method === "default") await hooks.onFailure?.(err).catch(() => {});
      closeQuietly(stream);
      return;
    }
    const outbound = d.outbound;
    if (!outbound.network.includes("tcp")) {
      await this.#fail(stream, hooks, log, new Error(`Outbound "${outbound.tag}" does not support TCP`));
      return;
    }
    const abort = new AbortController();
    const target = this.#target(metadata, d.options);
    let remote: Stream;
    try {
      log.info(`outbound/${outbound.type}[${outbound.tag}]: outbound connection to ${formatAddr(target)}`);
      remote = await outbound.dial(target, { metadata, signal: abort.signal });
    } catch (e) {
      await this.#fail(stream, hooks, log, asError(e));
      return;
    }
    try {
      await hooks.onSuccess?.();
    } catch (e) {
      log.debug(`connection: write handshake reply: ${errorMessage(e)}`);
      closeQuietly(stream);
      closeQuietly(remote);
      return;
    }
    const counters = { upload: 0, download: 0 };
    const untrack = this.#track(id, metadata, d.rule, outbound, counters, abort);
    try {
      const r = await relay(stream, remote, {
        counters,
        signal: abort.signal,
        idleTimeoutMs: this.#o.tcpIdleTimeoutMs,
      });
      if (r.error) log.debug(`connection: ${errorMessage(r.error)}`);
      log.debug(`connection: closed, ${r.upload} bytes up, ${r.download} bytes down`);
    } finally {
      untrack();
    }
  }

  /**
   * Matches rules, performing the non-final steps that need I/O on the way: `resolve` here,
   * `sniff` through `sniff` (called only while nothing was sniffed yet).
   * @throws {Error} If a resolve fails or `sniff` throws
   */
  async #walk(
    metadata: Metadata,
    log: Logger,
    sniff: (d: Extract<Decision, { kind: "sniff" }>) => Promise<void>,
  ): Promise<FinalDecision> {
    const searcher = this.#o.processSearcher;
    if (searcher && !metadata.process) await this.#findProcess(searcher, metadata, log);
    let d = this.decide(metadata);
    while (d.kind === "sniff" || d.kind === "resolve") {
      log.debug(`router: match ${d.rule}`);
      if (d.kind === "resolve") await this.#resolve(metadata, d.action, log);
      else if (metadata.protocol === undefined) await sniff(d);
      d = this.decide(metadata, performance.now(), d.next);
    }
    return d;
  }

  /** Looks the connection's process up (sing-box logs the outcome at info level). */
  async #findProcess(searcher: ProcessSearcher, metadata: Metadata, log: Logger): Promise<void> {
    try {
      const p = await searcher.find(metadata.network, metadata.source);
      if (!p) return;
      metadata.process = p;
      const who = p.user !== undefined ? `user: ${p.user}` : `user id: ${p.userId}`;
      log.info(p.path ? `router: found process path: ${p.path}, ${who}` : `router: found ${who}`);
    } catch (e) {
      log.info(`router: failed to search process: ${errorMessage(e)}`);
    }
  }

  /** The `resolve` action: resolves a domain destination so later IP rules and the dial use its addresses. */
  async #resolve(
    metadata: Metadata,
    a: Extract<RuleAction, { type: "resolve" }>,
    log: Logger,
  ): Promise<void> {
    const host = metadata.destination.host;
    if (isIP(host) || metadata.destinationAddresses?.length) return;
    if (!this.#o.dns) throw new Error("resolve: no DNS configured");
    const addrs = await this.#o.dns.lookup(host, {
      server: a.server,
      strategy: a.strategy,
      disableCache: a.disableCache,
      rewriteTtl: a.rewriteTtl,
      clientSubnet: a.clientSubnet,
    }, metadata);
    metadata.destinationAddresses = addrs;
    log.debug(`router: resolved ${host} to ${addrs.join(", ")}`);
  }

  async #fail(stream: Stream, hooks: HandshakeHooks, log: Logger, e: Error): Promise<void> {
    log.error(`connection: open outbound connection: ${e.message}`);
    await hooks.onFailure?.(e).catch(() => {});
    closeQuietly(stream);
  }

  async routePacketConnection(
    conn: PacketConn,
    metadata: Metadata,
    hooks: HandshakeHooks = {},
  ): Promise<void> {
    const id = randomId();
    const log = prefixed(this.#log, id);
    log.info(
      `inbound/${metadata.inboundType}[${metadata.inbound}]: inbound packet connection from ${
        formatAddr(metadata.source)
      }`,
    );
    let d: FinalDecision;
    try {
      d = await this.#walk(metadata, log, async (sniff) => {
        const quic = newQuicSniffContext();
        let result: SniffResult | null = null;
        const peeked = await peekPackets(conn, sniff.timeoutMs, (packets) => {
          const r = sniffPacket(packets[packets.length - 1]!.data, sniff.sniffers, quic);
          if (r === "need-more") return false;
          result = r;
          return true;
        });
        conn = peeked.conn;
        applySniff(metadata, result, log);
      });
    } catch (e) {
      log.error(`connection: ${errorMessage(e)}`);
      await hooks.onFailure?.(asError(e)).catch(() => {});
      conn.close();
      return;
    }
    return await this.#connectPackets(conn, metadata, hooks, d, log, id);
  }

  async #connectPackets(
    conn: PacketConn,
    metadata: Metadata,
    hooks: HandshakeHooks,
    d: FinalDecision,
    log: Logger,
    id: number,
  ): Promise<void> {
    log.debug(`router: match ${d.rule}`);
    if (d.kind === "hijack-dns") {
      if (!this.#o.dns) {
        conn.close();
        return;
      }
      log.info(`router: hijack DNS packets from ${formatAddr(metadata.source)}`);
      await hooks.onSuccess?.();
      return await serveDnsPackets(this.#o.dns, conn, metadata, log);
    }
    if (d.kind === "reject") {
      log.info(`router: packets to "${formatAddr(metadata.destination)}" rejected by rule: ${d.rule}`);
      await hooks.onFailure?.(new RejectedError("rejected")).catch(() => {});
      conn.close();
      return;
    }
    const outbound = d.outbound;
    const abort = new AbortController();
    let remote: PacketConn;
    try {
      if (!outbound.network.includes("udp")) {
        throw new Error(`Outbound "${outbound.tag}" does not support UDP`);
      }
      log.info(`outbound/${outbound.type}[${outbound.tag}]: outbound packet connection`);
      remote = await outbound.listenPacket(this.#target(metadata, d.options), {
        metadata,
        signal: abort.signal,
      });
    } catch (e) {
      log.error(`connection: open outbound packet connection: ${errorMessage(e)}`);
      await hooks.onFailure?.(asError(e)).catch(() => {});
      conn.close();
      return;
    }
    const counters = { upload: 0, download: 0 };
    const untrack = this.#track(id, metadata, d.rule, outbound, counters, abort);
    const o = d.options;
    const rewrite = o.override_address !== undefined || o.override_port !== undefined
      ? (a: Socksaddr) => ({ host: o.override_address ?? a.host, port: o.override_port ?? a.port })
      : undefined;
    try {
      await hooks.onSuccess?.();
      await relayPackets(conn, remote, {
        counters,
        idleTimeoutMs: o.udp_timeout,
        rewrite,
        signal: abort.signal,
      });
      log.debug(
        `connection: packet connection closed, ${counters.upload} bytes up, ${counters.download} bytes down`,
      );
    } finally {
      untrack();
    }
  }
}

function applySniff(metadata: Metadata, result: SniffResult | null, log: Logger): void {
  if (!result) {
    log.debug("router: sniffed nothing");
    return;
  }
  metadata.protocol = result.protocol;
  if (result.domain) metadata.domain = result.domain.toLowerCase();
  if (result.client) metadata.client = result.client;
  log.debug(
    `router: sniffed protocol: ${result.protocol}${result.domain ? `, domain: ${result.domain}` : ""}`,
  );
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function definedOnly(o: RouteOptionsAction): RouteOptionsAction {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RouteOptionsAction;
}

function randomId(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function prefixed(l: Logger, id: number): Logger {
  const p = `[${id}] `;
  return {
    trace: (m) => l.trace(p + m),
    debug: (m) => l.debug(p + m),
    info: (m) => l.info(p + m),
    warn: (m) => l.warn(p + m),
    error: (m) => l.error(p + m),
  };
}

function closeQuietly(s: { close(): void }): void {
  try {
    s.close();
  } catch { /* closed */ }
}
