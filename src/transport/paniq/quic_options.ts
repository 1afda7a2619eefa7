/**
 * Deno QUIC settings for paniq (paniq.md §3.7): ALPN `bridgefall-paniq`, the profile's
 * keep-alive, idle timeout and stream limit. Packet sizing is enforced by the UDP shim, which
 * drops QUIC datagrams larger than the envelope budget, so quinn's path-MTU discovery settles
 * at or below the fixed size the Go side uses.
 *
 * @module
 */
import { ALPN } from "../../protocol/paniq/constants.ts";
import type { ResolvedCommon } from "../../protocol/paniq/profile.ts";

/** Transport options for `connectQuic` / `QuicEndpoint.listen`. */
export function quicTransportOptions(cfg: ResolvedCommon): Deno.QuicTransportOptions {
  return {
    keepAliveInterval: Math.min(cfg.keepAliveMs, cfg.idleTimeoutMs / 2),
    maxIdleTimeout: cfg.idleTimeoutMs,
    maxConcurrentBidirectionalStreams: cfg.maxStreams,
    maxConcurrentUnidirectionalStreams: 100,
  };
}

export { ALPN };
