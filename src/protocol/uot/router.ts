/**
 * The server side of UDP-over-TCP (sing-box `common/uot/router.go`): in front of an inbound's
 * router, a TCP connection to a UoT magic host becomes a packet connection routed to the
 * request's destination (version 2) or to `0.0.0.0:0` (version 1, every datagram addressed).
 * Everything else passes through. sing-box puts it in front of the socks, http, mixed and
 * shadowsocks inbounds.
 *
 * @module
 */
import type { ConnectionRouter, Metadata, Stream } from "../../adapter/types.ts";
import { errorMessage } from "../../common/errors.ts";
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { withPrefix } from "../../common/prefixed_stream.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import {
  decodeUotRequest,
  UOT_LEGACY_MAGIC_HOST,
  UOT_MAGIC_HOST,
  uotFraming,
  type UotRequest,
} from "./protocol.ts";

/** Time the client has to send the version 2 request, ms. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Returns a router that serves UoT tunnels and hands everything else to `router`. */
export function uotRouter(router: ConnectionRouter, logger: Logger): ConnectionRouter {
  return {
    async routeConnection(stream, metadata, hooks) {
      const host = metadata.destination.host;
      if (host !== UOT_MAGIC_HOST && host !== UOT_LEGACY_MAGIC_HOST) {
        return await router.routeConnection(stream, metadata, hooks);
      }
      try {
        await hooks?.onSuccess?.();
        await serveUot(stream, host === UOT_MAGIC_HOST, router, metadata);
      } catch (e) {
        logger.debug(`UDP-over-TCP from ${metadata.source.host}: ${errorMessage(e)}`);
        stream.close();
      }
    },
    routePacketConnection: (conn, metadata, hooks) => router.routePacketConnection(conn, metadata, hooks),
  };
}

async function serveUot(stream: Stream, v2: boolean, router: ConnectionRouter, metadata: Metadata) {
  let req: UotRequest = { isConnect: false, destination: { host: "0.0.0.0", port: 0 } };
  let conn = stream;
  if (v2) {
    const reader = new HandshakeReader(stream, 1024);
    req = await withDeadline(stream, REQUEST_TIMEOUT_MS, () => reader.read(decodeUotRequest, "uot"));
    conn = withPrefix(stream, reader.rest());
  }
  const pc = new StreamPacketConn(conn, uotFraming(req.isConnect, req.destination));
  await router.routePacketConnection(pc, {
    ...metadata,
    network: "udp",
    domain: metadata.destination.host,
    destination: req.destination,
  });
}
