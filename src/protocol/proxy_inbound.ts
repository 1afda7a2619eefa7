/**
 * Shared plumbing of the proxy inbounds (shadowsocks, trojan, vmess, vless): listener with
 * optional TLS, the V2Ray transport layer, metadata, and the silent treatment of bad handshakes.
 *
 * @module
 */
import type { InboundContext } from "../adapter/registry.ts";
import type { Metadata, Socksaddr, Stream } from "../adapter/types.ts";
import type { ListenFieldsOptions } from "../config/common.ts";
import { drainSilently } from "../common/drain.ts";
import { errorMessage } from "../common/errors.ts";
import { HandshakeReader, withDeadline } from "../common/handshake_reader.ts";
import { ListenerInbound } from "../common/listener_inbound.ts";
import type { InboundTlsOptions } from "../transport/tls/config.ts";
import { tlsServerConfig } from "../transport/tls/server.ts";
import {
  acceptTransport,
  checkTransport,
  serverAlpn,
  type TransportSession,
  type V2rayTransportOptions,
} from "../transport/v2ray.ts";

/** Time a client has to finish transport and protocol handshakes, ms. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** Options every proxy inbound has. */
export interface ProxyInboundOptions extends ListenFieldsOptions {
  tls?: InboundTlsOptions;
  transport?: V2rayTransportOptions;
}

/** Serves one connection after TLS and the transport layer; `reader` buffers its first bytes. */
export type ProxyHandler = (
  stream: Stream,
  reader: HandshakeReader,
  base: Omit<Metadata, "network" | "destination">,
) => Promise<void>;

/** Builds a listener that runs TLS → transport → `handler` per connection. */
export function proxyListener(
  type: string,
  ctx: InboundContext,
  options: ProxyInboundOptions,
  handler: ProxyHandler,
): ListenerInbound {
  checkTransport(options.transport);
  const tlsBase = options.tls?.enabled ? tlsServerConfig(options.tls) : undefined;
  const tls = tlsBase && { ...tlsBase, alpnProtocols: serverAlpn(options.transport, tlsBase.alpnProtocols) };
  return new ListenerInbound(type, ctx, options, async (conn) => {
    const src = conn.remoteAddr as Deno.NetAddr;
    const source: Socksaddr = { host: src.hostname, port: src.port };
    let session: TransportSession;
    try {
      session = await withDeadline(conn, HANDSHAKE_TIMEOUT_MS, async () => {
        if (tls && "handshake" in conn) await (conn as Deno.TlsConn).handshake();
        return await acceptTransport(conn, new HandshakeReader(conn, 16 * 1024), options.transport);
      });
    } catch (e) {
      ctx.logger.debug(`${type} transport handshake from ${source.host}: ${errorMessage(e)}`);
      await drainSilently(conn);
      return;
    }
    await session.serve(
      (stream: Stream) =>
        handler(stream, new HandshakeReader(stream, 64 * 1024), {
          inbound: ctx.tag,
          inboundType: type,
          source,
        }),
      (e) => ctx.logger.debug(`${type} transport request from ${source.host}: ${e}`),
    );
  }, tls);
}

/** Logs a failed protocol handshake and applies the silent treatment. */
export async function rejectSilently(
  ctx: InboundContext,
  type: string,
  s: Stream,
  e: unknown,
): Promise<void> {
  ctx.logger.debug(`${type} handshake failed: ${errorMessage(e)}`);
  await drainSilently(s);
}
