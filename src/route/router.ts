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
import { formatAddr } from "../common/socks_addr.ts";
import { formatAction, type RouteOptionsAction } from "./action.ts";
import type { Rule } from "./rule/compile.ts";
import { matchContext } from "./rule/item.ts";
import { ConnectionTracker } from "./tracker.ts";

/** Options of {@linkcode Router}. */
export interface RouterOptions {
  rules: Rule[];
  outbounds: ReadonlyMap<string, Outbound>;
  /** Tag of the outbound used when no final rule matches. */
  final: string;
  logger: Logger;
  /** Idle timeout of TCP relays, ms. 0 disables. @default 0 */
  tcpIdleTimeoutMs?: number;
}

/** The routing decision for one connection. */
export type Decision =
  | { kind: "route"; outbound: Outbound; rule: string; options: RouteOptionsAction }
  | { kind: "reject"; method: "default" | "drop"; rule: string };

/** Within this window, more than DROP_THRESHOLD rejections switch `reject` to drop (§3.4). */
const DROP_WINDOW_MS = 30_000;
const DROP_THRESHOLD = 50;

/** Routes connections from inbounds to outbounds. */
export class Router implements ConnectionRouter {
  readonly tracker: ConnectionTracker = new ConnectionTracker();
  #o: RouterOptions;
  #log: Logger;
  #rejectTimes = new Map<Rule, number[]>();

  constructor(options: RouterOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  /** Looks up an outbound by tag. */
  outbound(tag: string): Outbound | undefined {
    return this.#o.outbounds.get(tag);
  }

  /** Matches the rules against `metadata` (pure apart from the reject-rate bookkeeping). */
  decide(metadata: Metadata, now = performance.now()): Decision {
    const ctx = matchContext(metadata);
    let options: RouteOptionsAction = {};
    for (const rule of this.#o.rules) {
      if (!rule.matcher.match(ctx)) continue;
      const a = rule.action;
      const desc = `${rule.matcher} => ${formatAction(a)}`;
      if (a.type === "route-options") {
        options = { ...options, ...definedOnly(a.options) };
        continue;
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
      options = { ...options, ...definedOnly(a.options) };
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
    const d = this.decide(metadata);
    log.debug(`router: match ${d.rule}`);
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
      await this.#fail(stream, hooks, log, e instanceof Error ? e : new Error(String(e)));
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
    const untrack = this.tracker.add({
      id,
      metadata,
      rule: d.rule,
      outbound: outbound.tag,
      start: Date.now(),
      counters,
      abort,
    });
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
    const d = this.decide(metadata);
    log.debug(`router: match ${d.rule}`);
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
      await hooks.onFailure?.(e instanceof Error ? e : new Error(String(e))).catch(() => {});
      conn.close();
      return;
    }
    const counters = { upload: 0, download: 0 };
    const untrack = this.tracker.add({
      id,
      metadata,
      rule: d.rule,
      outbound: outbound.tag,
      start: Date.now(),
      counters,
      abort,
    });
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
