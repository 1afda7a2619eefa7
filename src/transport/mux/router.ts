/**
 * Puts the sing-mux service in front of an inbound's router (sing-box `mux.NewRouterWithOptions`):
 * connections to {@linkcode MUX_DESTINATION} are served as multiplexed sessions whose streams go
 * to the real router; everything else passes through.
 *
 * @module
 */
import type { ConnectionRouter } from "../../adapter/types.ts";
import { errorMessage } from "../../common/errors.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { isMuxDestination, serveMux } from "./server.ts";

/** Inbound `multiplex{}` as parsed. */
export interface InboundMultiplex {
  enabled?: boolean;
  padding?: boolean;
}

/** Returns `router` itself when multiplex is off, else a router that serves mux connections. */
export function muxRouter(
  router: ConnectionRouter,
  m: InboundMultiplex | undefined,
  logger: Logger,
): ConnectionRouter {
  if (!m?.enabled) return router;
  return {
    async routeConnection(stream, metadata, hooks) {
      if (!isMuxDestination(metadata.destination)) {
        return await router.routeConnection(stream, metadata, hooks);
      }
      const { network: _n, destination: _d, ...base } = metadata;
      try {
        await hooks?.onSuccess?.();
        await serveMux(
          stream,
          new HandshakeReader(stream, 4096),
          { padding: m.padding },
          router,
          base,
          (e) => logger.debug(`multiplex stream: ${e}`),
        );
      } catch (e) {
        logger.debug(`multiplex connection from ${metadata.source.host}: ${errorMessage(e)}`);
      } finally {
        try {
          stream.close();
        } catch { /* closed */ }
      }
    },
    routePacketConnection: (conn, metadata, hooks) => router.routePacketConnection(conn, metadata, hooks),
  };
}
