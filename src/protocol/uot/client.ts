/**
 * The client side of UDP-over-TCP for the `socks` and `shadowsocks` outbounds: the
 * `udp_over_tcp` option (`true`, or `{enabled, version}`; version 0 or 2 is the current
 * protocol, 1 the legacy one) and a packet connection over a tunnel to the magic host.
 *
 * @module
 */
import { z } from "zod";
import type { PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { encodeUotRequest, UOT_LEGACY_VERSION, UOT_VERSION, uotDestination, uotFraming } from "./protocol.ts";

/** `udp_over_tcp`: a boolean or `{enabled, version}`. */
export const udpOverTcpSchema = z.union([
  z.boolean(),
  z.strictObject({
    enabled: z.boolean().optional(),
    version: z.number().int().refine((v) => v >= 0 && v <= UOT_VERSION, {
      error: "unknown UDP-over-TCP version; expected 1 or 2",
    }).optional(),
  }),
]);

/** The UoT version an `udp_over_tcp` value turns on, or `null` when off. */
export function uotVersion(o: z.output<typeof udpOverTcpSchema> | undefined): number | null {
  if (!o) return null;
  if (o === true) return UOT_VERSION;
  if (!o.enabled) return null;
  return o.version === UOT_LEGACY_VERSION ? UOT_LEGACY_VERSION : UOT_VERSION;
}

/**
 * Opens a UoT packet connection: `dial` opens the tunnel (to the magic host) through the
 * proxy; every datagram carries its address (sing `Client.ListenPacket`, `isConnect` false).
 */
export async function uotListenPacket(
  dial: (destination: Socksaddr) => Promise<Stream>,
  version: number,
  destination: Socksaddr,
): Promise<PacketConn> {
  const tunnel = await dial(uotDestination(version));
  const request = version === UOT_LEGACY_VERSION
    ? undefined
    : encodeUotRequest({ isConnect: false, destination });
  return new StreamPacketConn(tunnel, uotFraming(false, destination), request);
}
