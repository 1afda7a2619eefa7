/**
 * The `vless` inbound (spec sing-box.md §1.1) without flow: users by UUID, TLS and V2Ray
 * transports, TCP, UDP (length-prefixed datagrams to one destination, or `packetaddr`) and
 * Mux.Cool with XUDP (command 3). Unknown users and malformed requests are drained silently.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext, InboundRegistry } from "../../adapter/registry.ts";
import { listenFields } from "../../config/common.ts";
import { ProtocolError } from "../../common/errors.ts";
import { withDeadline } from "../../common/handshake_reader.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { formatUuid, parseUuid } from "../../common/uuid.ts";
import { inboundTlsSchema } from "../../transport/tls/config.ts";
import { v2rayTransportSchema } from "../../transport/v2ray.ts";
import { HANDSHAKE_TIMEOUT_MS, proxyListener, rejectSilently } from "../proxy_inbound.ts";
import { inboundMultiplexSchema } from "../shared_options.ts";
import { muxRouter } from "../../transport/mux/router.ts";
import type { PacketConn } from "../../adapter/types.ts";
import { serveMuxCool } from "../xudp/server.ts";
import {
  decodePacketAddr,
  encodePacketAddr,
  PACKET_ADDR_HOST,
  ReplayPacketConn,
} from "../vmess/packetaddr.ts";
import {
  decodeVlessRequest,
  LengthPacketDecoder,
  LengthPacketEncoder,
  VLESS_CMD_MUX,
  VLESS_CMD_TCP,
  vlessServerStream,
} from "./protocol.ts";

/** Options of a `vless` inbound. */
export const vlessInboundSchema = z.strictObject({
  type: z.literal("vless"),
  tag: z.string().optional(),
  ...listenFields,
  users: z.array(z.strictObject({
    name: z.string().optional(),
    uuid: z.string(),
    flow: z.literal("", { error: "flow is not supported by this build" }).optional(),
  })).min(1, { error: "at least one user is required" }),
  tls: inboundTlsSchema.optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: inboundMultiplexSchema.optional(),
});

/** Parsed options. */
export type VlessInboundOptions = z.output<typeof vlessInboundSchema>;

/** Creates a `vless` inbound. */
export function createVlessInbound(ctx: InboundContext, o: VlessInboundOptions) {
  ctx = { ...ctx, router: muxRouter(ctx.router, o.multiplex, ctx.logger) };
  const users = new Map(
    o.users.map((u, i) => [formatUuid(parseUuid(u.uuid, `users[${i}].uuid`)), u.name ?? ""]),
  );
  return proxyListener("vless", ctx, o, async (stream, reader, base) => {
    let req;
    try {
      req = await withDeadline(stream, HANDSHAKE_TIMEOUT_MS, () => reader.read(decodeVlessRequest, "vless"));
      if (!users.has(formatUuid(req.uuid))) throw new ProtocolError("vless", 1, "unknown user");
    } catch (e) {
      return await rejectSilently(ctx, "vless", stream, e);
    }
    const user = users.get(formatUuid(req.uuid)) || undefined;
    const destination = req.destination;
    if (req.command === VLESS_CMD_MUX) {
      await serveMuxCool(
        vlessServerStream(stream, reader.rest()),
        ctx.router,
        { ...base, user },
        (e) => ctx.logger.debug(`vless mux.cool from ${base.source.host}: ${e}`),
      );
      return;
    }
    if (req.command === VLESS_CMD_TCP) {
      await ctx.router.routeConnection(vlessServerStream(stream, reader.rest()), {
        ...base,
        network: "tcp",
        destination,
        user,
      });
      return;
    }
    const q = new ByteQueue(128 * 1024);
    q.push(reader.rest());
    const enc = new LengthPacketEncoder();
    const dec = new LengthPacketDecoder();
    const packetAddr = destination.host === PACKET_ADDR_HOST;
    let conn: PacketConn = new StreamPacketConn(
      stream,
      {
        encode: (data, addr) => enc.encode(packetAddr ? encodePacketAddr(addr, data) : data),
        decode: (bq) => {
          const p = dec.decode(bq);
          if (!p) return null;
          if (!packetAddr) return { data: p.slice(), addr: destination };
          const d = decodePacketAddr(p);
          return { data: d.data.slice(), addr: d.addr };
        },
      },
      new Uint8Array([0, 0]),
      q,
    );
    let dest = destination;
    if (packetAddr) {
      const first = await conn.readPacket();
      if (!first) return conn.close();
      dest = first.addr;
      conn = new ReplayPacketConn(conn, first);
    }
    await ctx.router.routePacketConnection(conn, { ...base, network: "udp", destination: dest, user });
  });
}

/** Registers the `vless` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "vless", schema: vlessInboundSchema, create: createVlessInbound });
}
