/**
 * The standalone proxy's request handler (paniq.md §7.3–7.4): dial the destination with Happy
 * Eyeballs (300 ms family fallback, `dial_timeout` overall), answer with the upstream socket's
 * local address, then relay with half-close and the relay idle timeout.
 *
 * @module
 */
import type { Dialer } from "../../adapter/types.ts";
import { relay } from "../../common/relay.ts";
import type { PaniqMetrics } from "../../protocol/paniq/metrics.ts";
import type { ProxyHandler } from "./server.ts";

/** Options of {@linkcode upstreamHandler}. */
export interface UpstreamOptions {
  dialer: Dialer;
  dialTimeoutMs: number;
  idleTimeoutMs: number;
  metrics: PaniqMetrics;
}

/** Builds the handler that dials each request's destination directly. */
export function upstreamHandler(o: UpstreamOptions): ProxyHandler {
  return async (req) => {
    let upstream;
    try {
      upstream = await o.dialer.dial(req.destination, { signal: AbortSignal.timeout(o.dialTimeoutMs) });
    } catch {
      await req.reject();
      return;
    }
    const local = (upstream as { localAddr?: Deno.Addr }).localAddr as Deno.NetAddr | undefined;
    let stream;
    try {
      stream = await req.accept(local ? { host: local.hostname, port: local.port } : undefined);
    } catch {
      upstream.close();
      return;
    }
    const counters = { upload: 0, download: 0 };
    await relay(stream, upstream, { idleTimeoutMs: o.idleTimeoutMs, counters });
    o.metrics.bytes_in += counters.upload;
    o.metrics.bytes_out += counters.download;
  };
}
