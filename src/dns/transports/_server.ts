/**
 * Server address fields shared by the remote transports (`server`, `server_port`, dialing).
 *
 * @module
 */
import type { Dialer } from "../../adapter/types.ts";
import { isIP } from "../../common/ip.ts";

/** Resolves a server host name to addresses (the `domain_resolver` of the transport's dial fields). */
export type ServerResolver = (host: string, signal?: AbortSignal) => Promise<string[]>;

/** Options every remote transport takes. */
export interface RemoteTransportOptions {
  tag: string;
  /** IP literal or host name of the upstream. */
  server: string;
  /** Defaults per type: 53 (udp, tcp), 853 (tls), 443 (https). */
  serverPort?: number;
  /**
   * Dials through an outbound (`detour`). Unset: this host's sockets. Only `udp` and `tcp`
   * honour it; Deno's TLS needs its own socket.
   */
  dialer?: Dialer;
  /** Resolves `server` when it is a host name; unset uses the system resolver. */
  resolver?: ServerResolver;
}

/** Resolves `host` to one address, preferring the resolver's first answer. */
export async function resolveServer(
  host: string,
  resolver?: ServerResolver,
  signal?: AbortSignal,
): Promise<string> {
  if (isIP(host)) return host;
  if (resolver) {
    const addrs = await resolver(host, signal);
    if (!addrs.length) throw new Deno.errors.NotFound(`Cannot resolve DNS server "${host}": no addresses`);
    return addrs[0];
  }
  const addrs = await Deno.resolveDns(host, "A", { signal }).catch(() => [] as string[]);
  if (addrs.length) return addrs[0];
  const addrs6 = await Deno.resolveDns(host, "AAAA", { signal });
  if (!addrs6.length) throw new Deno.errors.NotFound(`Cannot resolve DNS server "${host}": no addresses`);
  return addrs6[0];
}
