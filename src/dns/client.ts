/**
 * The DNS client (sing-box `dns.Client`): strategy filtering, EDNS0 client subnet, an LRU cache
 * keyed by question (or by question and server with `independent_cache`) whose answers come
 * back with their remaining TTL, TTL rewriting, the response check used by address-filter
 * rules, and `lookup` (A and AAAA in parallel, ordered by strategy).
 *
 * The cache works on wire bytes: a hit copies the stored message, patches its ID and its TTL
 * fields, and never decodes it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { formatIp } from "../common/ip.ts";
import { type Clock, LruCache } from "./lru.ts";
import {
  decodeMessage,
  encodeMessage,
  filterSvcbHints,
  fixedResponseStatus,
  setClientSubnet,
  svcbHints,
} from "./message.ts";
import type { DnsTransport } from "./transport.ts";
import {
  getCounts,
  getId,
  getRcode,
  isSimpleQuery,
  RCODE,
  readQuestion,
  readTtl,
  recordOffsets,
  setId,
  skipName,
  TYPE,
  type WireQuestion,
  writeTtl,
} from "./wire.ts";

/** sing-box domain strategies; `""` is "as is". */
export type DomainStrategy = "" | "prefer_ipv4" | "prefer_ipv6" | "ipv4_only" | "ipv6_only";

/** Per-query options (from a DNS rule action, a resolve action or a domain resolver). */
export interface QueryOptions {
  strategy?: DomainStrategy;
  disableCache?: boolean;
  /** Seconds; replaces every record's TTL. */
  rewriteTtl?: number;
  /** Prefix (`1.2.3.0/24`) or address sent as EDNS0 client subnet. */
  clientSubnet?: string;
}

/** Rejected-response cache (sing-box RDRC, persisted by `cache_file.store_rdrc`). */
export interface RdrcStore {
  load(transportTag: string, name: string, qtype: number): boolean;
  save(transportTag: string, name: string, qtype: number): void;
}

/** Options of the client (the `dns` section's cache switches). */
export interface DnsClientOptions {
  /** Per-exchange timeout. @default {10000} */
  timeoutMs?: number;
  disableCache?: boolean;
  disableExpire?: boolean;
  independentCache?: boolean;
  /** Entries; values below 1024 become 1024. */
  cacheCapacity?: number;
  /** Default EDNS0 client subnet. */
  clientSubnet?: string;
  rdrc?: RdrcStore;
  /** Time source in milliseconds. @default {Date.now} */
  clock?: Clock;
}

/** Decides whether response addresses satisfy an address-filter rule. */
export type ResponseChecker = (addresses: string[]) => boolean;

/** The response failed an address-filter rule; the router moves on to the next rule. */
export class ResponseRejectedError extends Error {
  /** The rejection came from the RDRC, not a fresh exchange. */
  readonly cached: boolean;
  /** The rejected response, when fresh. */
  readonly response?: Uint8Array;
  constructor(cached: boolean, response?: Uint8Array) {
    super(cached ? "Response rejected (cached)" : "Response rejected");
    this.name = "ResponseRejectedError";
    this.cached = cached;
    this.response = response;
  }
}

/** A lookup ended with a non-success RCODE. */
export class RcodeError extends Error {
  readonly rcode: number;
  constructor(rcode: number) {
    super(`DNS answered ${RCODE_NAMES[rcode] ?? `RCODE ${rcode}`}`);
    this.name = "RcodeError";
    this.rcode = rcode;
  }
}

const RCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k]));

interface CachedResponse {
  bytes: Uint8Array;
  /** Offsets of TTL fields to patch on a hit (OPT excluded). */
  ttlOffsets: number[];
}

/** Facts read off a response without decoding it. */
interface ResponseFacts {
  rcode: number;
  answerCount: number;
  addresses: string[];
  ttlOffsets: number[];
  /** sing-box's choice of TTL before rewriting. */
  timeToLive: number;
  hasHttpsAnswer: boolean;
}

/** The DNS client. One per `dns` section. */
export class DnsClient {
  readonly timeoutMs: number;
  readonly #options: DnsClientOptions;
  readonly #clock: Clock;
  readonly #cache?: LruCache<string, CachedResponse>;
  readonly #inflight = new Map<string, Promise<unknown>>();

  constructor(options: DnsClientOptions = {}) {
    this.#options = options;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.#clock = options.clock ?? Date.now;
    if (!options.disableCache) {
      this.#cache = new LruCache(Math.max(1024, options.cacheCapacity ?? 0), this.#clock);
    }
  }

  /** Number of cached responses. */
  get cacheSize(): number {
    return this.#cache?.size ?? 0;
  }

  /** Drops every cached response. */
  clearCache(): void {
    this.#cache?.clear();
  }

  #key(q: WireQuestion, transport: DnsTransport): string {
    return this.#options.independentCache
      ? `${q.name}\0${q.type}\0${q.class}\0${transport.tag}`
      : `${q.name}\0${q.type}\0${q.class}`;
  }

  /**
   * Answers `query` (wire format) through `transport`, from the cache when possible.
   *
   * @throws {ResponseRejectedError} If `checker` rejects the response
   */
  async exchange(
    transport: DnsTransport,
    query: Uint8Array,
    options: QueryOptions = {},
    checker?: ResponseChecker,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const question = readQuestion(query);
    if (!question) return encodeMessage(fixedResponseStatus(decodeMessage(query), RCODE.FORMERR));
    const strategy = options.strategy ?? "";
    if (
      (question.type === TYPE.A && strategy === "ipv6_only") ||
      (question.type === TYPE.AAAA && strategy === "ipv4_only")
    ) {
      return encodeMessage(fixedResponseStatus(decodeMessage(query), RCODE.NOERROR));
    }
    let message = query;
    const clientSubnet = options.clientSubnet || this.#options.clientSubnet;
    if (clientSubnet) message = encodeMessage(setClientSubnet(decodeMessage(query), clientSubnet));
    const cacheable = !!this.#cache && !options.disableCache && !clientSubnet &&
      isSimpleQuery(message, question);
    const id = getId(query);
    const key = cacheable ? this.#key(question, transport) : "";
    let release: (() => void) | undefined;
    if (cacheable) {
      // Wait for an identical query in flight, then try the cache (sing-box cacheLock).
      for (;;) {
        const pending = this.#inflight.get(key);
        if (!pending) break;
        await pending.catch(() => {});
      }
      const hit = this.#load(key, id);
      if (hit) return hit;
      let done!: () => void;
      this.#inflight.set(key, new Promise<void>((r) => done = r));
      release = () => {
        this.#inflight.delete(key);
        done();
      };
    }
    try {
      if (cacheable && checker && this.#options.rdrc?.load(transport.tag, question.name, question.type)) {
        throw new ResponseRejectedError(true);
      }
      const timeout = AbortSignal.timeout(this.timeoutMs);
      let response = await transport.exchange(message, signal ? AbortSignal.any([signal, timeout]) : timeout);
      let facts = readFacts(response);
      const store = cacheable && (facts.rcode === RCODE.NOERROR || facts.rcode === RCODE.NXDOMAIN);
      if (checker) {
        let rejected: boolean;
        if (facts.rcode !== RCODE.NOERROR && facts.rcode !== RCODE.NXDOMAIN) rejected = true;
        else if (facts.answerCount === 0) rejected = !checker([]);
        else rejected = !checker(facts.addresses);
        if (rejected) {
          if (store) this.#options.rdrc?.save(transport.tag, question.name, question.type);
          setId(response, id);
          throw new ResponseRejectedError(false, response);
        }
      }
      if (facts.hasHttpsAnswer && (strategy === "ipv4_only" || strategy === "ipv6_only")) {
        response = filterHttpsHints(response, strategy === "ipv4_only" ? 6 : 4);
        facts = readFacts(response);
      }
      const ttl = options.rewriteTtl ?? facts.timeToLive;
      for (const off of facts.ttlOffsets) writeTtl(response, off, ttl);
      setId(response, id);
      if (store && ttl > 0) {
        this.#cache!.set(
          key,
          { bytes: response.slice(), ttlOffsets: facts.ttlOffsets },
          this.#options.disableExpire ? undefined : ttl * 1000,
        );
      }
      return response;
    } finally {
      release?.();
    }
  }

  /**
   * The cached answer for `query` (ID and TTLs adjusted) when `exchange` would serve it from the
   * cache without any I/O; `undefined` otherwise. Synchronous: the DNS server's fast path.
   */
  cachedResponse(
    transport: DnsTransport,
    query: Uint8Array,
    options: QueryOptions = {},
  ): Uint8Array | undefined {
    if (!this.#cache || options.disableCache || options.clientSubnet || this.#options.clientSubnet) {
      return undefined;
    }
    let question: WireQuestion | null;
    try {
      question = readQuestion(query);
    } catch {
      return undefined;
    }
    if (!question || !isSimpleQuery(query, question)) return undefined;
    const strategy = options.strategy ?? "";
    if (
      (question.type === TYPE.A && strategy === "ipv6_only") ||
      (question.type === TYPE.AAAA && strategy === "ipv4_only")
    ) return undefined;
    return this.#load(this.#key(question, transport), getId(query));
  }

  /** A cached answer with ID `id` and TTLs set to the time left, or `undefined`. */
  #load(key: string, id: number): Uint8Array | undefined {
    const entry = this.#cache!.getWithExpiry(key);
    if (!entry) return undefined;
    const bytes = entry.value.bytes.slice();
    setId(bytes, id);
    if (entry.expireAt !== Infinity) {
      const left = Math.max(0, Math.trunc((entry.expireAt - this.#clock()) / 1000));
      for (const off of entry.value.ttlOffsets) writeTtl(bytes, off, left);
    }
    return bytes;
  }

  /**
   * Resolves `domain` to addresses: only A or AAAA for the `*_only` strategies, otherwise both
   * in parallel, IPv6 first for `prefer_ipv6`.
   *
   * @throws {RcodeError} If the server answers with an error code and no family has addresses
   */
  async lookup(
    transport: DnsTransport,
    domain: string,
    options: QueryOptions = {},
    checker?: ResponseChecker,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const name = domain.replace(/\.$/, "");
    const strategy = options.strategy ?? "";
    if (strategy === "ipv4_only") {
      return await this.#lookupType(transport, name, TYPE.A, options, checker, signal);
    }
    if (strategy === "ipv6_only") {
      return await this.#lookupType(transport, name, TYPE.AAAA, options, checker, signal);
    }
    const [r4, r6] = await Promise.allSettled([
      this.#lookupType(transport, name, TYPE.A, options, checker, signal),
      this.#lookupType(transport, name, TYPE.AAAA, options, checker, signal),
    ]);
    const v4 = r4.status === "fulfilled" ? r4.value : [];
    const v6 = r6.status === "fulfilled" ? r6.value : [];
    if (!v4.length && !v6.length) {
      const failed = r4.status === "rejected" ? r4 : r6.status === "rejected" ? r6 : undefined;
      if (failed) throw failed.reason;
      return [];
    }
    return strategy === "prefer_ipv6" ? [...v6, ...v4] : [...v4, ...v6];
  }

  async #lookupType(
    transport: DnsTransport,
    name: string,
    type: number,
    options: QueryOptions,
    checker: ResponseChecker | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string[]> {
    const response = await this.exchange(transport, buildQuery(name, type), options, checker, signal);
    const facts = readFacts(response);
    if (facts.rcode !== RCODE.NOERROR) throw new RcodeError(facts.rcode);
    return facts.addresses;
  }
}

/** A recursion-desired query for `name`/`type` with a random ID, in wire format. */
export function buildQuery(name: string, type: number): Uint8Array {
  const labels = name ? name.split(".") : [];
  const enc = new TextEncoder();
  const parts = labels.map((l) => enc.encode(l));
  const len = 12 + parts.reduce((n, p) => n + p.length + 1, 0) + 1 + 4;
  const out = new Uint8Array(len);
  setId(out, (Math.random() * 0x10000) | 0);
  out[2] = 0x01; // RD
  out[5] = 1; // QDCOUNT
  let pos = 12;
  for (const p of parts) {
    if (p.length > 63) throw new RangeError(`Cannot query "${name}": label longer than 63 bytes`);
    out[pos++] = p.length;
    out.set(p, pos);
    pos += p.length;
  }
  out[pos++] = 0;
  out[pos++] = type >> 8;
  out[pos++] = type & 0xff;
  out[pos++] = 0;
  out[pos] = 1; // IN
  return out;
}

function readFacts(msg: Uint8Array): ResponseFacts {
  const rcode = getRcode(msg);
  const [, an] = getCounts(msg);
  const rec = recordOffsets(msg);
  const addresses: string[] = [];
  const ttlOffsets: number[] = [];
  let timeToLive = 0;
  let hasHttpsAnswer = false;
  let negative: number | undefined;
  for (let i = 0; i < rec.ttl.length; i++) {
    const type = rec.type[i];
    if (type === TYPE.OPT) continue;
    ttlOffsets.push(rec.ttl[i]);
    const ttl = readTtl(msg, rec.ttl[i]);
    if (timeToLive === 0 || (ttl > 0 && ttl < timeToLive)) timeToLive = ttl;
    const rd = rec.rdata[i];
    if (rec.section[i] === 1 && rcode === RCODE.NOERROR) {
      if (type === TYPE.A && rec.rdlength[i] === 4) addresses.push(formatIp(msg.subarray(rd, rd + 4)));
      else if (type === TYPE.AAAA && rec.rdlength[i] === 16) {
        addresses.push(formatIp(msg.subarray(rd, rd + 16)));
      } else if (type === TYPE.HTTPS) {
        hasHttpsAnswer = true;
        addresses.push(...svcbHints(msg.subarray(rd, rd + rec.rdlength[i])));
      }
    }
    if (rec.section[i] === 2 && type === TYPE.SOA && negative === undefined) {
      const minimumAt = skipName(msg, skipName(msg, rd)) + 16;
      if (minimumAt + 4 <= msg.length) negative = Math.min(ttl, readTtl(msg, minimumAt));
    }
  }
  if (an === 0 && negative !== undefined && negative > 0) timeToLive = negative;
  return { rcode, answerCount: an, addresses, ttlOffsets, timeToLive, hasHttpsAnswer };
}

function filterHttpsHints(response: Uint8Array, dropKey: 4 | 6): Uint8Array {
  const message = decodeMessage(response);
  for (const answer of message.answers) {
    if (answer.type === "UNKNOWN_65" && answer.data instanceof Uint8Array) {
      answer.data = Buffer.from(filterSvcbHints(answer.data, dropKey));
    }
  }
  return encodeMessage(message);
}
