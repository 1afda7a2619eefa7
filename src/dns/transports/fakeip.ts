/**
 * The `fakeip` DNS server: hands out addresses from `inet4_range` / `inet6_range`, one per
 * domain, and remembers the mapping both ways so the router can recover the domain from a
 * connection to a fake address (sing-box `dns/transport/fakeip`). Allocation wraps around the
 * range, reusing the oldest addresses; the first address handed out is the range's network
 * address plus 2.
 *
 * @module
 */
import {
  formatIp,
  formatPrefix,
  type IpPrefix,
  parseIp,
  parsePrefix,
  prefixContains,
} from "../../common/ip.ts";
import { decodeMessage, DEFAULT_TTL, encodeMessage, fixedResponse } from "../message.ts";
import type { DnsTransport } from "../transport.ts";

/** Persisted allocation cursor (sing-box `FakeIPMetadata`). */
export interface FakeIpMetadata {
  inet4Range?: string;
  inet6Range?: string;
  inet4Current?: string;
  inet6Current?: string;
}

/**
 * Where mappings live: memory by default; `cache_file` with `store_fakeip` supplies a persistent
 * one (sing-box `adapter.FakeIPStorage`).
 */
export interface FakeIpStorage {
  loadMetadata(): FakeIpMetadata | undefined;
  saveMetadata(metadata: FakeIpMetadata): void;
  /** Maps `address` to `domain`, dropping the address's previous domain. */
  store(address: string, domain: string): void;
  load(address: string): string | undefined;
  loadDomain(domain: string, ipv6: boolean): string | undefined;
  reset(): void;
}

/** An in-memory {@linkcode FakeIpStorage}. */
export class MemoryFakeIpStorage implements FakeIpStorage {
  readonly #byAddress = new Map<string, string>();
  readonly #byDomain4 = new Map<string, string>();
  readonly #byDomain6 = new Map<string, string>();
  #metadata?: FakeIpMetadata;

  loadMetadata(): FakeIpMetadata | undefined {
    return this.#metadata;
  }
  saveMetadata(metadata: FakeIpMetadata): void {
    this.#metadata = { ...metadata };
  }
  store(address: string, domain: string): void {
    const v6 = address.includes(":");
    const old = this.#byAddress.get(address);
    if (old !== undefined) (v6 ? this.#byDomain6 : this.#byDomain4).delete(old);
    this.#byAddress.set(address, domain);
    (v6 ? this.#byDomain6 : this.#byDomain4).set(domain, address);
  }
  load(address: string): string | undefined {
    return this.#byAddress.get(address);
  }
  loadDomain(domain: string, ipv6: boolean): string | undefined {
    return (ipv6 ? this.#byDomain6 : this.#byDomain4).get(domain);
  }
  reset(): void {
    this.#byAddress.clear();
    this.#byDomain4.clear();
    this.#byDomain6.clear();
  }
  /** Entries as `[address, domain]`, for persistence. */
  entries(): [string, string][] {
    return [...this.#byAddress.entries()];
  }
}

/**
 * A {@linkcode FakeIpStorage} persisted to a JSON file (written on every change, debounced by
 * the caller's `flush`). Stands in for sing-box's bbolt `cache.db` buckets.
 */
export class FileFakeIpStorage extends MemoryFakeIpStorage {
  readonly path: string;
  #dirty = false;

  constructor(path: string) {
    super();
    this.path = path;
    try {
      const data = JSON.parse(Deno.readTextFileSync(path)) as {
        metadata?: FakeIpMetadata;
        entries?: [string, string][];
      };
      if (data.metadata) super.saveMetadata(data.metadata);
      for (const [address, domain] of data.entries ?? []) super.store(address, domain);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  override saveMetadata(metadata: FakeIpMetadata): void {
    super.saveMetadata(metadata);
    this.#dirty = true;
  }
  override store(address: string, domain: string): void {
    super.store(address, domain);
    this.#dirty = true;
  }
  override reset(): void {
    super.reset();
    this.#dirty = true;
    this.flush();
  }

  /** Writes the file if anything changed. */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const tmp = `${this.path}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify({ metadata: this.loadMetadata(), entries: this.entries() }));
    Deno.renameSync(tmp, this.path);
  }
}

function addOne(addr: Uint8Array): Uint8Array {
  const out = addr.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (++out[i] <= 0xff) break;
    out[i] = 0;
  }
  return out;
}

function lastAddress(prefix: IpPrefix): Uint8Array {
  const out = prefix.addr.slice();
  for (let bit = prefix.bits; bit < out.length * 8; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Allocation state over one or two ranges (sing-box `fakeip.Store`). */
export class FakeIpStore {
  readonly inet4Range?: IpPrefix;
  readonly inet6Range?: IpPrefix;
  readonly storage: FakeIpStorage;
  #current4?: Uint8Array;
  #current6?: Uint8Array;

  constructor(options: { inet4Range?: string; inet6Range?: string; storage?: FakeIpStorage }) {
    this.inet4Range = options.inet4Range ? parsePrefix(options.inet4Range) : undefined;
    this.inet6Range = options.inet6Range ? parsePrefix(options.inet6Range) : undefined;
    if (this.inet4Range && this.inet4Range.addr.length !== 4) {
      throw new TypeError("fakeip inet4_range must be IPv4");
    }
    if (this.inet6Range && this.inet6Range.addr.length !== 16) {
      throw new TypeError("fakeip inet6_range must be IPv6");
    }
    this.storage = options.storage ?? new MemoryFakeIpStorage();
    const meta = this.storage.loadMetadata();
    const r4 = this.inet4Range ? formatPrefix(this.inet4Range) : undefined;
    const r6 = this.inet6Range ? formatPrefix(this.inet6Range) : undefined;
    if (meta && meta.inet4Range === r4 && meta.inet6Range === r6) {
      this.#current4 = meta.inet4Current ? parseIp(meta.inet4Current) ?? undefined : undefined;
      this.#current6 = meta.inet6Current ? parseIp(meta.inet6Current) ?? undefined : undefined;
    } else {
      this.#current4 = this.inet4Range ? addOne(this.inet4Range.addr) : undefined;
      this.#current6 = this.inet6Range ? addOne(this.inet6Range.addr) : undefined;
      this.storage.reset();
    }
  }

  /** True when `address` is inside one of the ranges. */
  contains(address: string): boolean {
    const b = parseIp(address);
    if (!b) return false;
    return (this.inet4Range ? prefixContains(this.inet4Range, b) : false) ||
      (this.inet6Range ? prefixContains(this.inet6Range, b) : false);
  }

  /**
   * The fake address for `domain`, allocating one if needed.
   *
   * @throws {RangeError} If the family's range is not configured
   */
  create(domain: string, ipv6: boolean): string {
    const known = this.storage.loadDomain(domain, ipv6);
    if (known) return known;
    const range = ipv6 ? this.inet6Range : this.inet4Range;
    const current = ipv6 ? this.#current6 : this.#current4;
    if (!range || !current) throw new RangeError(`Missing IPv${ipv6 ? 6 : 4} fakeip address range`);
    let next = addOne(current);
    if (equal(next, lastAddress(range)) || !prefixContains(range, next)) next = addOne(addOne(range.addr));
    if (ipv6) this.#current6 = next;
    else this.#current4 = next;
    const address = formatIp(next);
    this.storage.store(address, domain);
    this.storage.saveMetadata(this.metadata());
    return address;
  }

  /** The domain a fake address stands for. */
  lookup(address: string): string | undefined {
    const b = parseIp(address);
    return b ? this.storage.load(formatIp(b)) : undefined;
  }

  /** Current allocation cursor, for persistence. */
  metadata(): FakeIpMetadata {
    return {
      inet4Range: this.inet4Range ? formatPrefix(this.inet4Range) : undefined,
      inet6Range: this.inet6Range ? formatPrefix(this.inet6Range) : undefined,
      inet4Current: this.#current4 ? formatIp(this.#current4) : undefined,
      inet6Current: this.#current6 ? formatIp(this.#current6) : undefined,
    };
  }

  /** Forgets every mapping (Clash API `/cache/fakeip/flush`). */
  reset(): void {
    this.storage.reset();
  }
}

/** Options of a `fakeip` DNS server. */
export interface FakeIpTransportOptions {
  tag: string;
  inet4Range?: string;
  inet6Range?: string;
  storage?: FakeIpStorage;
}

/** A `fakeip` DNS server. Only A and AAAA queries are answered. */
export class FakeIpTransport implements DnsTransport {
  readonly type: string = "fakeip";
  readonly tag: string;
  readonly store: FakeIpStore;

  constructor(options: FakeIpTransportOptions) {
    this.tag = options.tag;
    this.store = new FakeIpStore(options);
  }

  exchange(query: Uint8Array): Promise<Uint8Array> {
    const message = decodeMessage(query);
    const question = message.questions[0];
    if (!question || (question.type !== "A" && question.type !== "AAAA")) {
      return Promise.reject(new TypeError("Only IP queries are supported by fakeip"));
    }
    const domain = question.name.toLowerCase().replace(/\.$/, "");
    const address = this.store.create(domain, question.type === "AAAA");
    return Promise.resolve(encodeMessage(fixedResponse(message.id, question, [address], DEFAULT_TTL)));
  }

  close(): Promise<void> {
    this.store.storage.saveMetadata(this.store.metadata());
    if (this.store.storage instanceof FileFakeIpStorage) this.store.storage.flush();
    return Promise.resolve();
  }
}
