/**
 * The `local` DNS server: the system resolver as sing-box's Linux `local` transport does it.
 * A/AAAA names in `/etc/hosts` are answered from there; otherwise the question is asked of the
 * `resolv.conf` name servers (at most three, port 53) with its `search`/`domain` list, `ndots`,
 * `timeout`, `attempts`, `rotate`, `single-request` and `use-vc`. A and AAAA race every
 * candidate name and take the first answer with addresses; other types try names in order.
 *
 * @module
 */
import type { Dialer } from "../../adapter/types.ts";
import { buildQuery } from "../client.ts";
import { decodeMessage, DEFAULT_TTL, encodeMessage, fixedResponse, messageToAddresses } from "../message.ts";
import type { DnsTransport } from "../transport.ts";
import { getId, getRcode, RCODE, readQuestion, setId, TYPE } from "../wire.ts";
import { HostsTransport } from "./hosts.ts";
import { TcpTransport } from "./tcp.ts";
import { UdpTransport } from "./udp.ts";

/** Options of a `local` DNS server. */
export interface LocalTransportOptions {
  tag: string;
  /** @default {"/etc/resolv.conf"} */
  resolvConfPath?: string;
  /** @default {"/etc/hosts"} */
  hostsPath?: string;
  dialer?: Dialer;
}

/** What `resolv.conf` says (Go's `dnsConfig`). */
export interface ResolvConf {
  nameservers: string[];
  /** Search suffixes, each ending with a dot. */
  search: string[];
  /** @default {1} */
  ndots: number;
  /** Per-try timeout in milliseconds. @default {5000} */
  timeoutMs: number;
  /** @default {2} */
  attempts: number;
  rotate: boolean;
  singleRequest: boolean;
  useTcp: boolean;
}

function fqdn(name: string): string {
  return name.endsWith(".") ? name : name + ".";
}

/**
 * Parses resolv.conf text like Go's resolver: without `nameserver` lines the servers are
 * 127.0.0.1 and ::1; without `search`/`domain` the search list is `defaultSearch`.
 */
export function parseResolvConf(text: string, defaultSearch: string[] = []): ResolvConf {
  const conf: ResolvConf = {
    nameservers: [],
    search: [],
    ndots: 1,
    timeoutMs: 5000,
    attempts: 2,
    rotate: false,
    singleRequest: false,
    useTcp: false,
  };
  let searchSet = false;
  for (const line of text.split("\n")) {
    if (line.startsWith(";") || line.startsWith("#")) continue;
    const f = line.trim().split(/\s+/).filter(Boolean);
    if (!f.length) continue;
    switch (f[0]) {
      case "nameserver":
        if (f[1] && conf.nameservers.length < 3 && /^[0-9a-fA-F:.]+(%\S+)?$/.test(f[1])) {
          conf.nameservers.push(f[1].replace(/%.*/, ""));
        }
        break;
      case "domain":
        if (f[1]) {
          conf.search = [fqdn(f[1])];
          searchSet = true;
        }
        break;
      case "search":
        conf.search = f.slice(1).map(fqdn).filter((s) => s !== ".");
        searchSet = true;
        break;
      case "options":
        for (const s of f.slice(1)) {
          const num = (p: string) => parseInt(s.slice(p.length), 10) || 0;
          if (s.startsWith("ndots:")) conf.ndots = Math.min(15, Math.max(0, num("ndots:")));
          else if (s.startsWith("timeout:")) conf.timeoutMs = Math.max(1, num("timeout:")) * 1000;
          else if (s.startsWith("attempts:")) conf.attempts = Math.max(1, num("attempts:"));
          else if (s === "rotate") conf.rotate = true;
          else if (s === "single-request" || s === "single-request-reopen") conf.singleRequest = true;
          else if (s === "use-vc" || s === "usevc" || s === "tcp") conf.useTcp = true;
        }
        break;
    }
  }
  if (!conf.nameservers.length) conf.nameservers = ["127.0.0.1", "::1"];
  if (!searchSet || !conf.search.length) conf.search = defaultSearch;
  return conf;
}

function avoidDns(name: string): boolean {
  if (name === "") return true;
  return name.replace(/\.$/, "").endsWith(".onion");
}

/** The names to try for `name` (Go's `dnsConfig.nameList`). */
export function nameList(conf: ResolvConf, name: string): string[] {
  const rooted = name.endsWith(".");
  if (name.length > 254 || (name.length === 254 && !rooted)) return [];
  if (rooted) return avoidDns(name) ? [] : [name];
  const hasNdots = name.split(".").length - 1 >= conf.ndots;
  const full = name + ".";
  const names: string[] = [];
  if (hasNdots && !avoidDns(full)) names.push(full);
  for (const suffix of conf.search) {
    const candidate = full + suffix;
    if (!avoidDns(candidate) && candidate.length <= 254) names.push(candidate);
  }
  if (!hasNdots && !avoidDns(full)) names.push(full);
  return names;
}

/** The default search list: the domain part of this host's name. */
function defaultSearch(): string[] {
  try {
    const host = Deno.hostname();
    const dot = host.indexOf(".");
    return dot > 0 && dot < host.length - 1 ? [fqdn(host.slice(dot + 1))] : [];
  } catch {
    return [];
  }
}

/** A query for `name`/`type` with an EDNS0 OPT record (UDP size 65507), in wire format. */
function queryWithEdns(name: string, type: number): Uint8Array {
  const base = buildQuery(name.replace(/\.$/, ""), type);
  const out = new Uint8Array(base.length + 11);
  out.set(base);
  out[11] = 1; // ARCOUNT
  out.set([0, 0, 41, 0xff, 0xe3, 0, 0, 0, 0, 0, 0], base.length);
  return out;
}

/** A `local` DNS server. */
export class LocalTransport implements DnsTransport {
  readonly type: string = "local";
  readonly tag: string;
  readonly #options: LocalTransportOptions;
  readonly #hosts: HostsTransport;
  #offset = 0;

  constructor(options: LocalTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    this.#hosts = new HostsTransport({ tag: options.tag, path: [options.hostsPath ?? "/etc/hosts"] });
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const question = readQuestion(query);
    if (!question) throw new TypeError("Local DNS exchange needs a question");
    const id = getId(query);
    if (question.type === TYPE.A || question.type === TYPE.AAAA) {
      const addrs = this.#hosts.lookup(question.name);
      if (addrs?.length) {
        const m = decodeMessage(query);
        return encodeMessage(fixedResponse(id, m.questions[0], addrs, DEFAULT_TTL));
      }
    }
    const text = await Deno.readTextFile(this.#options.resolvConfPath ?? "/etc/resolv.conf").catch(() => "");
    const conf = parseResolvConf(text, defaultSearch());
    const names = nameList(conf, question.name);
    if (!names.length) throw new Error(`Cannot resolve "${question.name}": no name to query`);
    const response = conf.singleRequest || (question.type !== TYPE.A && question.type !== TYPE.AAAA)
      ? await this.#single(conf, names, question.type, signal)
      : await this.#parallel(conf, names, question.type, signal);
    setId(response, id);
    return response;
  }

  async #single(conf: ResolvConf, names: string[], type: number, signal?: AbortSignal): Promise<Uint8Array> {
    let last: unknown;
    for (const name of names) {
      try {
        return await this.#tryOneName(conf, name, type, signal);
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  #parallel(conf: ResolvConf, names: string[], type: number, signal?: AbortSignal): Promise<Uint8Array> {
    const abort = new AbortController();
    const inner = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    return new Promise<Uint8Array>((resolve, reject) => {
      let failures = 0;
      let lastError: unknown;
      for (const name of names) {
        this.#tryOneName(conf, name, type, inner).then((r) => {
          if (getRcode(r) !== RCODE.NOERROR || !messageToAddresses(decodeMessage(r)).length) {
            throw new Error(`No addresses for "${name}" (RCODE ${getRcode(r)})`, { cause: r });
          }
          abort.abort();
          resolve(r);
        }).catch((e) => {
          lastError = e;
          if (++failures === names.length) {
            // Every name failed: answer with the last real response when there was one.
            const cause = (e as Error).cause;
            if (cause instanceof Uint8Array) resolve(cause);
            else reject(lastError);
          }
        });
      }
    });
  }

  async #tryOneName(conf: ResolvConf, name: string, type: number, signal?: AbortSignal): Promise<Uint8Array> {
    const start = conf.rotate ? this.#offset++ : 0;
    let last: unknown;
    for (let attempt = 0; attempt < conf.attempts; attempt++) {
      for (let j = 0; j < conf.nameservers.length; j++) {
        signal?.throwIfAborted();
        const server = conf.nameservers[(start + j) % conf.nameservers.length];
        const opts = { tag: this.tag, server, dialer: this.#options.dialer };
        const upstream = conf.useTcp ? new TcpTransport(opts) : new UdpTransport(opts);
        const timeout = AbortSignal.timeout(conf.timeoutMs);
        try {
          return await upstream.exchange(
            queryWithEdns(name, type),
            signal ? AbortSignal.any([signal, timeout]) : timeout,
          );
        } catch (e) {
          last = e;
        }
      }
    }
    throw new Error(`Local DNS exchange for "${name}" failed on every name server`, { cause: last });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
