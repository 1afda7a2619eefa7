/**
 * Enrichment (spec traceroute.md §6.6): reverse DNS for hops and destinations (5 s timeout,
 * 1 h cache, names with a trailing dot, /etc/hosts first as Go does) and the source public IP
 * (a list of "what is my IP" services, 2 s each, first success cached for 2 h).
 *
 * @module
 */
import type { Results } from "./result.ts";
import { canonicalIP, parseIP } from "./packets/addr.ts";

/** Looks up PTR names for an IP; rejects on failure. */
export type PtrLookup = (ip: string) => Promise<string[]>;

/** Parses /etc/hosts text into ip → names (with trailing dots, Go style). */
export function parseHosts(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const f = line.replace(/#.*/, "").trim().split(/\s+/);
    if (f.length < 2 || !parseIP(f[0])) continue;
    const ip = canonicalIP(f[0]);
    const names = out.get(ip) ?? [];
    for (const n of f.slice(1)) names.push(n.endsWith(".") ? n : `${n}.`);
    out.set(ip, names);
  }
  return out;
}

function reverseName(ip: string): string {
  const b = parseIP(ip)!;
  if (b.length === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((b[i] & 0xf).toString(16), (b[i] >> 4).toString(16));
  return `${nibbles.join(".")}.ip6.arpa`;
}

/** The system PTR lookup: /etc/hosts, then DNS with a 5 s timeout. */
export const systemPtrLookup: PtrLookup = async (ip) => {
  try {
    const hosts = parseHosts(await Deno.readTextFile("/etc/hosts")).get(canonicalIP(ip));
    if (hosts?.length) return hosts;
  } catch { /* no hosts file */ }
  const names = await Deno.resolveDns(reverseName(ip), "PTR", { signal: AbortSignal.timeout(5000) });
  return names.map((n) => n.endsWith(".") ? n : `${n}.`);
};

const ptrCache = new Map<string, { names: string[]; until: number }>();

/** Fills `reverse_dns` on every run destination and hop, one concurrent lookup per distinct IP. */
export async function enrichWithReverseDns(
  r: Results,
  lookupPtr: PtrLookup = systemPtrLookup,
): Promise<void> {
  const runs = r.traceroute.runs ?? [];
  const ips = new Set<string>();
  for (const run of runs) {
    if (run.destination.ip_address) ips.add(run.destination.ip_address);
    for (const h of run.hops) if (h.ip_address) ips.add(h.ip_address);
  }
  const names = new Map<string, string[]>();
  await Promise.all([...ips].map(async (ip) => {
    const key = `reverse-dns-${ip}`;
    const c = ptrCache.get(key);
    if (c && c.until > Date.now()) return void names.set(ip, c.names);
    try {
      const n = await lookupPtr(ip);
      ptrCache.set(key, { names: n, until: Date.now() + 3600_000 });
      names.set(ip, n);
    } catch { /* errors are not cached; the field is left out */ }
  }));
  for (const run of runs) {
    const d = names.get(run.destination.ip_address);
    if (d?.length) run.destination.reverse_dns = d;
    for (const h of run.hops) {
      const n = names.get(h.ip_address);
      if (n?.length) h.reverse_dns = n;
    }
  }
}

/** The services tried in order. */
export const PUBLIC_IP_SERVICES = [
  "https://icanhazip.com/",
  "https://ipinfo.io/ip",
  "https://checkip.amazonaws.com/",
  "https://api.ipify.org/",
  "https://whatismyip.akamai.com/",
];

let publicIpCache: { ip: string; until: number } | null = null;

/** Forgets the cached public IP (tests). */
export function clearPublicIpCache(): void {
  publicIpCache = null;
}

async function tryService(url: string, budgetMs: number): Promise<string | null> {
  const end = Date.now() + budgetMs;
  let backoff = 500;
  while (Date.now() < end) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(end - Date.now(), 1)) });
      const body = (await res.text()).trim();
      if (res.status >= 400 && res.status < 500) return null;
      if (res.ok) return parseIP(body) ? canonicalIP(body) : null;
    } catch { /* network error: retry within the budget */ }
    const wait = Math.min(backoff, end - Date.now());
    if (wait <= 0) break;
    await new Promise((r) => setTimeout(r, wait));
    backoff = Math.min(backoff * 2, 3000);
  }
  return null;
}

/**
 * Returns the public IP from the first service that answers with an IP, or rejects.
 * @throws {Error} If every service failed.
 */
export async function getPublicIP(services = PUBLIC_IP_SERVICES, budgetMs = 2000): Promise<string> {
  if (publicIpCache && publicIpCache.until > Date.now()) return publicIpCache.ip;
  for (const url of services) {
    const ip = await tryService(url, budgetMs);
    if (ip) {
      publicIpCache = { ip, until: Date.now() + 2 * 3600_000 };
      return ip;
    }
  }
  throw new Error("failed to get public IP from every service");
}
