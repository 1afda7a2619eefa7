/**
 * The `local` DNS server: the system's resolver configuration. On Linux this reads
 * `/etc/resolv.conf` and forwards the raw query to each `nameserver` in turn over UDP (TCP when
 * truncated), so every query type works, as sing-box's resolv.conf-based local transport does.
 *
 * @module
 */
import type { Dialer } from "../../adapter/types.ts";
import type { DnsTransport } from "../transport.ts";
import { UdpTransport } from "./udp.ts";

/** Options of a `local` DNS server. */
export interface LocalTransportOptions {
  tag: string;
  /** @default {"/etc/resolv.conf"} */
  resolvConfPath?: string;
  dialer?: Dialer;
}

/** What `resolv.conf` says. */
export interface ResolvConf {
  nameservers: string[];
  /** Per-try timeout in milliseconds (`options timeout:n`). @default {5000} */
  timeoutMs: number;
  /** Tries per server (`options attempts:n`). @default {2} */
  attempts: number;
}

/** Parses resolv.conf text; with no `nameserver` line the default is `127.0.0.1` (glibc). */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], timeoutMs: 5000, attempts: 2 };
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0]) conf.nameservers.push(rest[0].replace(/%.*/, ""));
    if (key === "options") {
      for (const opt of rest) {
        const [name, value] = opt.split(":");
        if (name === "timeout" && Number(value) > 0) conf.timeoutMs = Math.min(30, Number(value)) * 1000;
        if (name === "attempts" && Number(value) > 0) conf.attempts = Math.min(5, Number(value));
      }
    }
  }
  if (!conf.nameservers.length) conf.nameservers.push("127.0.0.1");
  return conf;
}

/** A `local` DNS server. */
export class LocalTransport implements DnsTransport {
  readonly type: string = "local";
  readonly tag: string;
  readonly #options: LocalTransportOptions;

  constructor(options: LocalTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const text = await Deno.readTextFile(this.#options.resolvConfPath ?? "/etc/resolv.conf").catch(() => "");
    const conf = parseResolvConf(text);
    let lastError: unknown;
    for (let attempt = 0; attempt < conf.attempts; attempt++) {
      for (const server of conf.nameservers) {
        signal?.throwIfAborted();
        const upstream = new UdpTransport({ tag: this.tag, server, dialer: this.#options.dialer });
        const trySignal = signal
          ? AbortSignal.any([signal, AbortSignal.timeout(conf.timeoutMs)])
          : AbortSignal.timeout(conf.timeoutMs);
        try {
          return await upstream.exchange(query, trySignal);
        } catch (e) {
          lastError = e;
        }
      }
    }
    throw new Error(`Local DNS exchange failed for every nameserver in resolv.conf`, { cause: lastError });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
