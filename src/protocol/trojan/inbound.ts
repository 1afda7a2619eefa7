/**
 * The `trojan` inbound (spec sing-box.md §1.1): users by password, TLS and V2Ray transports,
 * TCP and UDP (command 3). Anything that is not a request from a known user goes to the
 * `fallback` server (or `fallback_for_alpn` by the negotiated ALPN) with every byte already
 * read, so a prober sees that server; without a fallback the connection is drained silently.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext, InboundRegistry } from "../../adapter/registry.ts";
import type { Stream } from "../../adapter/types.ts";
import { listenFields, port } from "../../config/common.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import { relay } from "../../common/relay.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import { inboundTlsSchema } from "../../transport/tls/config.ts";
import { v2rayTransportSchema } from "../../transport/v2ray.ts";
import { HANDSHAKE_TIMEOUT_MS, proxyListener, rejectSilently } from "../proxy_inbound.ts";
import { inboundMultiplexSchema } from "../shared_options.ts";
import { muxRouter } from "../../transport/mux/router.ts";
import {
  decodeTrojanPacket,
  decodeTrojanRequest,
  encodeTrojanPacket,
  looksLikeTrojan,
  TROJAN_CMD_CONNECT,
  TROJAN_KEY_LEN,
  trojanKey,
} from "./protocol.ts";

const serverAddr = z.strictObject({ server: z.string(), server_port: port });

/** Options of a `trojan` inbound. */
export const trojanInboundSchema = z.strictObject({
  type: z.literal("trojan"),
  tag: z.string().optional(),
  ...listenFields,
  users: z.array(z.strictObject({ name: z.string().optional(), password: z.string() }))
    .min(1, { error: "at least one user is required" }),
  tls: inboundTlsSchema.optional(),
  fallback: serverAddr.optional(),
  fallback_for_alpn: z.record(z.string(), serverAddr).optional(),
  transport: v2rayTransportSchema.optional(),
  multiplex: inboundMultiplexSchema.optional(),
});

/** Parsed options. */
export type TrojanInboundOptions = z.output<typeof trojanInboundSchema>;

/** Decides whether the buffered bytes are a request from a known user; reads as needed. */
async function identify(reader: HandshakeReader, keys: Map<string, string>): Promise<boolean> {
  for (;;) {
    const like = looksLikeTrojan(reader.buffered);
    if (like === false) return false;
    if (like === true) {
      return keys.has(new TextDecoder().decode(reader.buffered.subarray(0, TROJAN_KEY_LEN)));
    }
    if (!await reader.fill()) return false;
  }
}

/** Creates a `trojan` inbound. */
export function createTrojanInbound(ctx: InboundContext, o: TrojanInboundOptions) {
  ctx = { ...ctx, router: muxRouter(ctx.router, o.multiplex, ctx.logger) };
  const keys = new Map(o.users.map((u) => [new TextDecoder().decode(trojanKey(u.password)), u.name ?? ""]));
  const fallback = async (stream: Stream, reader: HandshakeReader): Promise<void> => {
    let target = o.fallback;
    const inner = (stream as { inner?: Stream }).inner ?? stream;
    if (o.fallback_for_alpn && "handshake" in inner) {
      const alpn = (await (inner as Deno.TlsConn).handshake()).alpnProtocol;
      if (alpn && o.fallback_for_alpn[alpn]) target = o.fallback_for_alpn[alpn];
    }
    if (!target) return await rejectSilently(ctx, "trojan", stream, new Error("not a trojan request"));
    let remote: Deno.TcpConn;
    try {
      remote = await Deno.connect({ hostname: target.server, port: target.server_port });
    } catch (e) {
      return await rejectSilently(ctx, "trojan", stream, e);
    }
    await writeAll(remote, reader.rest());
    await relay(stream, remote);
  };
  return proxyListener("trojan", ctx, o, async (stream, reader, base) => {
    let req;
    try {
      const known = await withDeadline(stream, HANDSHAKE_TIMEOUT_MS, () => identify(reader, keys));
      if (!known) return await fallback(stream, reader);
      req = await withDeadline(
        stream,
        HANDSHAKE_TIMEOUT_MS,
        () => reader.read(decodeTrojanRequest, "trojan"),
      );
    } catch (e) {
      if (e instanceof ProtocolError) return await fallback(stream, reader);
      return await rejectSilently(ctx, "trojan", stream, e);
    }
    const user = keys.get(req.key) || undefined;
    if (req.command === TROJAN_CMD_CONNECT) {
      await ctx.router.routeConnection(withPrefix(stream, reader.rest()), {
        ...base,
        network: "tcp",
        destination: req.destination,
        user,
      });
      return;
    }
    const q = new ByteQueue(128 * 1024);
    q.push(reader.rest());
    const conn = new StreamPacketConn(
      stream,
      {
        encode: (data, addr) => encodeTrojanPacket(addr, data),
        decode: decodeTrojanPacket,
      },
      undefined,
      q,
    );
    await ctx.router.routePacketConnection(conn, {
      ...base,
      network: "udp",
      destination: req.destination,
      user,
    });
  });
}

/** Registers the `trojan` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({ type: "trojan", schema: trojanInboundSchema, create: createTrojanInbound });
}
