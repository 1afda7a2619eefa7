/**
 * Target parsing and resolution (spec traceroute.md §6.5): `host`, `host:port`, `[v6]:port`,
 * a bare IPv6 literal counting as port-less; names through the system resolver (getaddrinfo).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { DNSError, InvalidTargetError } from "./errors.ts";
import { canonicalIP, parseIP } from "./packets/addr.ts";

/** True when `s` carries a port: `[..]:` for bracketed targets, otherwise exactly one colon. */
export function hasPort(s: string): boolean {
  if (s.startsWith("[")) return s.includes("]:");
  return s.split(":").length === 2;
}

/** Go `net.JoinHostPort`: brackets hosts that contain a colon. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Go `net.SplitHostPort`.
 * @throws {InvalidTargetError} If the address is malformed.
 */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const bad = (why: string) => new InvalidTargetError(`invalid address: address ${hostport}: ${why}`);
  const i = hostport.lastIndexOf(":");
  if (i < 0) throw bad("missing port in address");
  let host: string;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0) throw bad("missing ']' in address");
    if (end + 1 === hostport.length) throw bad("missing port in address");
    if (end + 1 !== i) {
      throw bad(hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address");
    }
    host = hostport.slice(1, end);
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) throw bad("too many colons in address");
  }
  if (
    hostport.indexOf("[", 1) >= 0 ||
    hostport.indexOf("]", hostport.startsWith("[") ? hostport.indexOf("]") + 1 : 0) >= 0
  ) {
    throw bad("unexpected '[' or ']' in address");
  }
  return { host, port: hostport.slice(i + 1) };
}

/** A resolver returning addresses in system order. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo, so /etc/hosts is honoured). */
export const systemResolver: Resolver = async (host) => {
  try {
    const res = await lookup(host, { all: true, verbatim: true });
    return res.map((r) => r.address);
  } catch (e) {
    const code = (e as { code?: string }).code;
    // getaddrinfo cannot tell a timeout from a refused or broken server (EAI_AGAIN): that is
    // a DNS failure; only an explicit timeout code maps to TIMEOUT
    const timeout = code === "ETIMEOUT" || code === "ETIMEDOUT";
    const why = timeout ? "i/o timeout" : code === "ENOTFOUND" ? "no such host" : "server misbehaving";
    throw new DNSError(host, `lookup ${host}: ${why}`, { cause: e, timeout });
  }
};

/**
 * Resolves `raw` (with `defaultPort` when it has none) to an IP and port.
 * @throws {InvalidTargetError} If malformed or the port is outside 1..65535.
 * @throws {DNSError} If the name does not resolve to a usable address.
 */
export async function parseTarget(
  raw: string,
  defaultPort: number,
  wantV6: boolean,
  resolve: Resolver = systemResolver,
): Promise<{ ip: string; port: number }> {
  if (!hasPort(raw)) raw = joinHostPort(raw.replace(/^\[+|\]+$/g, ""), String(defaultPort));
  const { host, port: portStr } = splitHostPort(raw);
  let ip: string;
  if (parseIP(host)) {
    ip = canonicalIP(host);
  } else {
    const ips = await resolve(host);
    if (ips.length === 0) throw new DNSError(host, "no addresses found");
    // Go quirk: in IPv6 mode every address has a 16-byte form, so the first one wins
    const found = wantV6 ? ips[0] : ips.find((a) => parseIP(a)?.length === 4);
    if (!found) throw new DNSError(host, `no ${wantV6 ? "IPv6" : "IPv4"} address found`);
    ip = canonicalIP(found);
  }
  const port = /^[+-]?\d+$/.test(portStr) ? Number(portStr) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidTargetError(`invalid port: ${portStr}`);
  }
  return { ip, port };
}
