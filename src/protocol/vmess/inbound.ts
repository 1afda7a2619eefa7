/**
 * The `vmess` inbound (spec sing-box.md §1.1): AEAD requests only (alter_id 0), auth ID time
 * window ±120 s and replay filter, TLS and V2Ray transports, TCP, UDP (command 2, plain or
 * `packetaddr` to `sp.packet-addr.v2fly.arpa`), Mux.Cool with XUDP (command 3), authenticated
 * length, sing-mux multiplex. A failed handshake is drained silently.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext, InboundRegistry } from "../../adapter/registry.ts";
import { listenFields } from "../../config/common.ts";
import { withDeadline } from "../../common/handshake_reader.ts";
import { ReplayFilter } from "../../common/replay_filter.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { parseUuid } from "../../common/uuid.ts";
import { inboundTlsSchema } from "../../transport/tls/config.ts";
import { v2rayTransportSchema } from "../../transport/v2ray.ts";
import { HANDSHAKE_TIMEOUT_MS, proxyListener, rejectSilently } from "../proxy_inbound.ts";
import { inboundMultiplexSchema } from "../shared_options.ts";
import { muxRouter } from "../../transport/mux/router.ts";
import type { PacketConn } from "../../adapter/types.ts";
import { serveMuxCool } from "../xudp/server.ts";
import { CMD_MUX, CMD_TCP, CMD_UDP, vmessUser } from "./header.ts";
import { PACKET_ADDR_HOST, ReplayPacketConn } from "./packetaddr.ts";
import { vmessPacketFraming } from "./udp.ts";
import { AUTH_ID_WINDOW_S, vmessServerHandshake, vmessServerStream } from "./protocol.ts";

/** Options of a `vmess` inbound. */
export const vmessInboundSchema = z.strictObject({
  type: z.literal("vmess"),
  tag: z.string().optional(),
  ...listenFields,
  users: z.array(z.strictObject({
    name: z.string().optional(),
    uuid: z.string(),
    alterId: z.literal(0, { error: "only alterId 0 (AEAD) is supported" }).optional(),
  })).min(1, { error: "at least one user is required" }),
  tls: inboundTlsSchema.optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: inboundMultiplexSchema.optional(),
});

/** Parsed options. */
export type VmessInboundOptions = z.output<typeof vmessInboundSchema>;

/** Creates a `vmess` inbound. */
export function createVmessInbound(ctx: InboundContext, o: VmessInboundOptions) {
  ctx = { ...ctx, router: muxRouter(ctx.router, o.multiplex, ctx.logger) };
  const users = o.users.map((u, i) => vmessUser(parseUuid(u.uuid, `users[${i}].uuid`), u.name ?? ""));
  const replay = new ReplayFilter(2 * AUTH_ID_WINDOW_S * 1000, Date.now());
  return proxyListener("vmess", ctx, o, async (stream, reader, base) => {
    let a;
    try {
      a = await withDeadline(stream, HANDSHAKE_TIMEOUT_MS, () => vmessServerHandshake(reader, users, replay));
    } catch (e) {
      return await rejectSilently(ctx, "vmess", stream, e);
    }
    const user = a.user.name || undefined;
    const destination = a.request.destination;
    if (a.request.command === CMD_TCP) {
      await ctx.router.routeConnection(vmessServerStream(stream, a), {
        ...base,
        network: "tcp",
        destination,
        user,
      });
    } else if (a.request.command === CMD_UDP) {
      const packetAddr = destination.host === PACKET_ADDR_HOST;
      let conn: PacketConn = new StreamPacketConn(
        stream,
        vmessPacketFraming(a.encoder(true), a.decoder, destination, packetAddr),
        a.responsePrefix,
        a.queue,
      );
      let dest = destination;
      if (packetAddr) {
        // Route by the first datagram's address (the magic destination is not a real peer).
        const first = await conn.readPacket();
        if (!first) return conn.close();
        dest = first.addr;
        conn = new ReplayPacketConn(conn, first);
      }
      await ctx.router.routePacketConnection(conn, { ...base, network: "udp", destination: dest, user });
    } else if (a.request.command === CMD_MUX) {
      await serveMuxCool(
        vmessServerStream(stream, a),
        ctx.router,
        { ...base, user },
        (e) => ctx.logger.debug(`vmess mux.cool from ${base.source.host}: ${e}`),
      );
    } else {
      await rejectSilently(ctx, "vmess", stream, new Error(`unsupported command ${a.request.command}`));
    }
  });
}

/** Registers the `vmess` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "vmess", schema: vmessInboundSchema, create: createVmessInbound });
}
