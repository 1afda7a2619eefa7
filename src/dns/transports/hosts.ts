/**
 * The `hosts` DNS server: answers A/AAAA from `predefined` entries and hosts files
 * (`/etc/hosts` by default), NXDOMAIN otherwise (sing-box `dns/transport/hosts`).
 *
 * @module
 */
import { isIP } from "../../common/ip.ts";
import { decodeMessage, DEFAULT_TTL, encodeMessage, fixedResponse } from "../message.ts";
import type { DnsTransport } from "../transport.ts";
import { RCODE } from "../wire.ts";

/** Options of a `hosts` DNS server. */
export interface HostsTransportOptions {
  tag: string;
  /** Hosts files; `["/etc/hosts"]` when empty. */
  path?: string[];
  /** Name → addresses, checked before the files. */
  predefined?: Record<string, string[]>;
  /** Milliseconds between checks of a file's modification time. @default {1000} */
  recheckMs?: number;
}

/** Parses hosts-file text into name → addresses (names lower-cased, in file order). */
export function parseHostsFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [addr, ...names] = line.split(/\s+/);
    const ip = addr.replace(/%.*/, "");
    if (!isIP(ip)) continue;
    for (const name of names) {
      const key = canonicalName(name);
      const list = out.get(key) ?? [];
      if (!list.includes(ip)) list.push(ip);
      out.set(key, list);
    }
  }
  return out;
}

function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

class HostsFile {
  readonly path: string;
  #entries = new Map<string, string[]>();
  #mtime = -1;
  #checkedAt = -Infinity;
  readonly #recheckMs: number;

  constructor(path: string, recheckMs: number) {
    this.path = path;
    this.#recheckMs = recheckMs;
  }

  lookup(name: string): string[] | undefined {
    const now = performance.now();
    if (now - this.#checkedAt >= this.#recheckMs) {
      this.#checkedAt = now;
      try {
        const mtime = Deno.statSync(this.path).mtime?.getTime() ?? 0;
        if (mtime !== this.#mtime) {
          this.#entries = parseHostsFile(Deno.readTextFileSync(this.path));
          this.#mtime = mtime;
        }
      } catch {
        this.#entries = new Map();
        this.#mtime = -1;
      }
    }
    return this.#entries.get(name);
  }
}

/** A `hosts` DNS server. */
export class HostsTransport implements DnsTransport {
  readonly type: string = "hosts";
  readonly tag: string;
  readonly #files: HostsFile[];
  readonly #predefined = new Map<string, string[]>();

  constructor(options: HostsTransportOptions) {
    this.tag = options.tag;
    const paths = options.path?.length ? options.path : ["/etc/hosts"];
    this.#files = paths.map((p) => new HostsFile(p, options.recheckMs ?? 1000));
    for (const [name, addrs] of Object.entries(options.predefined ?? {})) {
      this.#predefined.set(canonicalName(name), addrs);
    }
  }

  /** Addresses for `name` from the predefined entries, then the files. */
  lookup(name: string): string[] | undefined {
    const key = canonicalName(name);
    const pre = this.#predefined.get(key);
    if (pre) return pre;
    for (const file of this.#files) {
      const found = file.lookup(key);
      if (found?.length) return found;
    }
    return undefined;
  }

  exchange(query: Uint8Array): Promise<Uint8Array> {
    const message = decodeMessage(query);
    const question = message.questions[0];
    if (question && (question.type === "A" || question.type === "AAAA")) {
      const addrs = this.lookup(question.name);
      if (addrs?.length) {
        return Promise.resolve(encodeMessage(fixedResponse(message.id, question, addrs, DEFAULT_TTL)));
      }
    }
    return Promise.resolve(encodeMessage({
      id: message.id,
      type: "response",
      flags: RCODE.NXDOMAIN,
      questions: question ? [question] : [],
      answers: [],
      authorities: [],
      additionals: [],
    }));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
