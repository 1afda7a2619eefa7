/**
 * The DNS router (sing-box `dns.Router`): matches DNS rules in order, applies `route-options`,
 * answers `reject` and `predefined` itself, retries with the next rule when a response fails an
 * address filter, and records IP → domain for `reverse_mapping`. `lookup` serves outbounds'
 * `domain_resolver`, the `resolve` route action and `default_domain_resolver`; it never returns
 * fake IPs.
 *
 * @module
 */
import type { Metadata } from "../adapter/types.ts";
import type { Logger } from "../common/log.ts";
import { type Clock, LruCache } from "./lru.ts";
import {
  type DnsClient,
  type DomainStrategy,
  type QueryOptions,
  RcodeError,
  type ResponseChecker,
  ResponseRejectedError,
} from "./client.ts";
import {
  decodeMessage,
  type DnsMessage,
  type DnsRecord,
  encodeMessage,
  FLAG,
  messageToAddresses,
} from "./message.ts";
import type { DnsMatchContext } from "./rule/items.ts";
import { type DnsRule, formatDnsAction } from "./rule/compile.ts";
import type { DnsTransport } from "./transport.ts";
import type { FakeIpTransport } from "./transports/fakeip.ts";
import { RCODE, readQuestion, TYPE } from "./wire.ts";

/** Thrown by `lookup` when a `reject` rule matches (sing-box `RejectedError`). */
export class DnsRejectedError extends Error {
  constructor(domain: string) {
    super(`DNS lookup of "${domain}" rejected by rule`);
    this.name = "DnsRejectedError";
  }
}

/** Options of a lookup (from `domain_resolver` or the `resolve` action). */
export interface LookupOptions extends QueryOptions {
  /** Server tag to use directly, skipping the rules. */
  server?: string;
}

/** Router construction options. */
export interface DnsRouterOptions {
  client: DnsClient;
  /** Servers by tag, in config order. */
  transports: Map<string, DnsTransport>;
  rules?: DnsRule[];
  /** Default server tag; the first server when unset. */
  final?: string;
  /** `dns.strategy`, applied when no rule sets one. */
  strategy?: DomainStrategy;
  reverseMapping?: boolean;
  logger?: Logger;
  clock?: Clock;
}

const NO_METADATA: Metadata = {
  inbound: "",
  inboundType: "",
  network: "udp",
  source: { host: "0.0.0.0", port: 0 },
  destination: { host: "", port: 0 },
};

interface Match {
  transport?: DnsTransport;
  rule?: DnsRule;
  index: number;
}

/** The DNS router. */
export class DnsRouter {
  readonly client: DnsClient;
  readonly transports: Map<string, DnsTransport>;
  readonly rules: DnsRule[];
  readonly #default: DnsTransport;
  readonly #strategy: DomainStrategy;
  readonly #logger?: Logger;
  readonly #reverse?: LruCache<string, string>;

  constructor(options: DnsRouterOptions) {
    this.client = options.client;
    this.transports = options.transports;
    this.rules = options.rules ?? [];
    const first = options.transports.values().next().value;
    const def = options.final ? options.transports.get(options.final) : first;
    if (!def) {
      throw new TypeError(
        options.final ? `Default DNS server "${options.final}" not found` : "No DNS server",
      );
    }
    this.#default = def;
    this.#strategy = options.strategy ?? "";
    this.#logger = options.logger;
    if (options.reverseMapping) this.#reverse = new LruCache(1024, options.clock);
  }

  #context(metadata: Metadata | undefined, domain: string, queryType: number): DnsMatchContext {
    return {
      metadata: { ...(metadata ?? NO_METADATA), destination: { host: "", port: 0 } },
      domain: domain.toLowerCase().replace(/\.$/, ""),
      destinationIps: [],
      queryType,
    };
  }

  #match(
    ctx: DnsMatchContext,
    allowFakeIp: boolean,
    after: number,
    isAddressQuery: boolean,
    opts: QueryOptions,
  ): Match {
    for (let i = after + 1; i < this.rules.length; i++) {
      const rule = this.rules[i];
      if (rule.addressLimit && !isAddressQuery) continue;
      if (!rule.pre.match(ctx)) continue;
      this.#logger?.debug(`match[${i}] ${rule.pre} => ${formatDnsAction(rule.action)}`);
      const action = rule.action;
      switch (action.type) {
        case "route": {
          const transport = this.transports.get(action.server);
          if (!transport) {
            this.#logger?.error(`transport not found: ${action.server}`);
            continue;
          }
          const fake = transport.type === "fakeip";
          if (fake && !allowFakeIp) continue;
          Object.assign(opts, action.options);
          if (fake) opts.disableCache = true;
          return { transport, rule, index: i };
        }
        case "route-options":
          Object.assign(opts, action.options);
          break;
        case "reject":
        case "predefined":
          return { rule, index: i };
      }
    }
    return { transport: this.#default, index: -1 };
  }

  /**
   * Answers a query in wire format. Resolves to `null` when a `reject` rule with method `drop`
   * matched (the caller sends nothing).
   */
  async exchange(
    query: Uint8Array,
    metadata?: Metadata,
    options: LookupOptions = {},
  ): Promise<Uint8Array | null> {
    const question = readQuestion(query);
    const [qd] = [(query[4] << 8) | query[5]];
    if (!question || qd !== 1) {
      const m = decodeMessage(query);
      return encodeMessage({
        ...m,
        type: "response",
        flags: RCODE.FORMERR,
        answers: [],
        authorities: [],
        additionals: [],
      });
    }
    const ctx = this.#context(metadata, question.name, question.type);
    let response: Uint8Array | undefined;
    let transport: DnsTransport | undefined;
    if (options.server) {
      transport = this.transports.get(options.server);
      if (!transport) throw new TypeError(`DNS server "${options.server}" not found`);
      response = await this.client.exchange(transport, query, {
        ...options,
        strategy: options.strategy || this.#strategy,
      });
    } else {
      const isAddressQuery = question.type === TYPE.A || question.type === TYPE.AAAA ||
        question.type === TYPE.HTTPS;
      let index = -1;
      for (;;) {
        const opts: QueryOptions = { ...options };
        const m = this.#match(ctx, true, index, isAddressQuery, opts);
        index = m.index;
        transport = m.transport;
        if (m.rule?.action.type === "reject") {
          if (m.rule.action.method === "drop") return null;
          return encodeMessage(rejectResponse(decodeMessage(query)));
        }
        if (m.rule?.action.type === "predefined") {
          return encodeMessage(predefinedResponse(decodeMessage(query), m.rule));
        }
        const checker = responseChecker(m.rule, ctx);
        opts.strategy ||= this.#strategy;
        try {
          response = await this.client.exchange(transport!, query, opts, checker);
          break;
        } catch (e) {
          if (e instanceof ResponseRejectedError && checker) {
            this.#logger?.debug(`response rejected for ${question.name}${e.cached ? " (cached)" : ""}`);
            if (index < 0) throw e;
            continue;
          }
          this.#logger?.error(`exchange failed for ${question.name}: ${(e as Error).message}`);
          throw e;
        }
      }
    }
    if (this.#reverse && transport?.type !== "fakeip") this.#remember(response);
    return response;
  }

  /**
   * Answers `query` without I/O when possible: a `reject` or `predefined` rule, or a cache hit
   * on the selected server. Returns the answer, `null` for a silent drop, or `undefined` when
   * the query needs {@linkcode DnsRouter.exchange}.
   */
  exchangeSync(query: Uint8Array, metadata?: Metadata): Uint8Array | null | undefined {
    let question;
    try {
      question = readQuestion(query);
    } catch {
      return undefined;
    }
    if (!question || ((query[4] << 8) | query[5]) !== 1) return undefined;
    const ctx = this.#context(metadata, question.name, question.type);
    const opts: QueryOptions = {};
    const isAddressQuery = question.type === TYPE.A || question.type === TYPE.AAAA ||
      question.type === TYPE.HTTPS;
    const m = this.#match(ctx, true, -1, isAddressQuery, opts);
    if (m.rule?.action.type === "reject") {
      return m.rule.action.method === "drop" ? null : encodeMessage(rejectResponse(decodeMessage(query)));
    }
    if (m.rule?.action.type === "predefined") {
      return encodeMessage(predefinedResponse(decodeMessage(query), m.rule));
    }
    if (m.rule?.addressLimit || !m.transport || m.transport.type === "fakeip") return undefined;
    opts.strategy ||= this.#strategy;
    return this.client.cachedResponse(m.transport, query, opts);
  }

  #remember(response: Uint8Array): void {
    const m = decodeMessage(response);
    for (const a of m.answers) {
      if ((a.type === "A" || a.type === "AAAA") && (a.ttl ?? 0) > 0) {
        this.#reverse!.set(String(a.data), a.name.toLowerCase().replace(/\.$/, ""), (a.ttl ?? 0) * 1000);
      }
    }
  }

  /**
   * Resolves `domain` to addresses through the rules (fake-IP servers skipped) or the server in
   * `options.server`.
   *
   * @throws {DnsRejectedError} If a reject rule matched
   * @throws {RcodeError} If the answer is an error code
   */
  async lookup(domain: string, options: LookupOptions = {}, metadata?: Metadata): Promise<string[]> {
    const name = domain.replace(/\.$/, "");
    let result: string[];
    if (options.server) {
      const transport = this.transports.get(options.server);
      if (!transport) throw new TypeError(`DNS server "${options.server}" not found`);
      result = await this.client.lookup(transport, name, {
        ...options,
        strategy: options.strategy || this.#strategy,
      });
    } else {
      const ctx = this.#context(metadata, name, 0);
      let index = -1;
      for (;;) {
        const opts: QueryOptions = { ...options };
        const m = this.#match(ctx, false, index, true, opts);
        index = m.index;
        if (m.rule?.action.type === "reject") throw new DnsRejectedError(name);
        if (m.rule?.action.type === "predefined") {
          const action = m.rule.action;
          if (action.rcode !== RCODE.NOERROR) throw new RcodeError(action.rcode);
          result = action.answer.filter((r) => r.type === "A" || r.type === "AAAA").map((r) =>
            String(r.data)
          );
          break;
        }
        const checker = responseChecker(m.rule, ctx);
        opts.strategy ||= this.#strategy;
        try {
          result = await this.client.lookup(m.transport!, name, opts, checker);
          break;
        } catch (e) {
          if (e instanceof ResponseRejectedError && checker && index >= 0) continue;
          throw e;
        }
      }
    }
    if (!result.length) throw new Error(`Lookup of "${name}" returned no addresses`);
    if (this.#reverse) { for (const ip of result) this.#reverse.set(ip, name, 600_000); }
    return result;
  }

  /** The domain an address was answered for (reverse mapping), or a fake IP's domain. */
  reverseLookup(address: string): string | undefined {
    for (const t of this.transports.values()) {
      if (t.type === "fakeip") {
        const d = (t as FakeIpTransport).store.lookup(address);
        if (d) return d;
      }
    }
    return this.#reverse?.get(address);
  }

  /** Drops every cached answer. */
  clearCache(): void {
    this.client.clearCache();
  }

  /** Closes every transport. */
  async close(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close().catch(() => {})));
  }
}

function responseChecker(rule: DnsRule | undefined, ctx: DnsMatchContext): ResponseChecker | undefined {
  if (!rule?.addressLimit) return undefined;
  return (addresses) => rule.full.match({ ...ctx, destinationIps: addresses });
}

function rejectResponse(query: DnsMessage): DnsMessage {
  return {
    id: query.id,
    type: "response",
    flags: RCODE.REFUSED,
    questions: query.questions.slice(0, 1),
    answers: [],
    authorities: [],
    additionals: [],
  };
}

function rewrite(records: DnsRecord[], qname: string): DnsRecord[] {
  return records.map((r) => {
    if (r.name.startsWith("*") && qname.toLowerCase().endsWith(r.name.slice(1).toLowerCase())) {
      return { ...r, name: qname };
    }
    return r;
  });
}

function predefinedResponse(query: DnsMessage, rule: DnsRule): DnsMessage {
  const action = rule.action as Extract<DnsRule["action"], { type: "predefined" }>;
  const qname = query.questions[0]?.name ?? "";
  return {
    id: query.id,
    type: "response",
    flags: FLAG.AA | FLAG.RD | FLAG.RA | action.rcode,
    questions: query.questions,
    answers: rewrite(action.answer, qname),
    authorities: rewrite(action.ns, qname),
    additionals: rewrite(action.extra, qname),
  };
}

/** Addresses in a wire response (A, AAAA, HTTPS hints). */
export function responseAddresses(response: Uint8Array): string[] {
  return messageToAddresses(decodeMessage(response));
}
