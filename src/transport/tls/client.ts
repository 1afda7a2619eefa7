/**
 * Client TLS for proxy outbounds: Deno's rustls (`Deno.startTls`) over a dialed TCP stream,
 * or `node:tls` when `insecure` is set.
 *
 * @module
 */
import tls from "node:tls";
import type { Dialer, DialOptions, Socksaddr, Stream } from "../../adapter/types.ts";
import type { Logger } from "../../common/log.ts";
import { NodeDuplexStream } from "../../common/node_stream.ts";
import { IGNORED_TLS_FIELDS, type OutboundTlsOptions } from "./config.ts";

/** Resolved client TLS settings. */
export interface TlsClientConfig {
  serverName: string;
  alpn?: string[];
  insecure: boolean;
  caCerts?: string[];
}

/** Builds the client config from options; reads `certificate_path`; warns about ignored fields. */
export async function tlsClientConfig(
  options: OutboundTlsOptions,
  server: string,
  logger?: Logger,
): Promise<TlsClientConfig> {
  for (const k of IGNORED_TLS_FIELDS) {
    if (options[k] !== undefined && options[k] !== false && logger) {
      logger.warn(`tls.${k} is not supported and ignored`);
    }
  }
  if (options.utls?.enabled) logger?.warn("tls.utls is not supported; the runtime's own ClientHello is used");
  const ca: string[] = [];
  if (options.certificate?.length) ca.push(options.certificate.join("\n"));
  if (options.certificate_path) ca.push(await Deno.readTextFile(options.certificate_path));
  return {
    serverName: options.server_name ?? server,
    alpn: options.alpn?.length ? options.alpn : undefined,
    insecure: options.insecure ?? false,
    caCerts: ca.length ? ca : undefined,
  };
}

/**
 * Opens a TLS stream to `server`. The native path needs the dialer to return a `Deno.TcpConn`;
 * the insecure path connects itself.
 *
 * @throws {Error} On handshake or verification failure, or TLS over a non-TCP detour.
 */
export async function dialTls(
  dialer: Dialer,
  server: Socksaddr,
  cfg: TlsClientConfig,
  options?: DialOptions,
): Promise<Stream> {
  if (cfg.insecure) {
    const socket = tls.connect({
      host: server.host,
      port: server.port,
      servername: cfg.serverName,
      rejectUnauthorized: false,
      ALPNProtocols: cfg.alpn,
      ca: cfg.caCerts,
    });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
    return new NodeDuplexStream(socket as never);
  }
  const conn = await dialer.dial(server, options);
  if (!("setNoDelay" in conn) || !("remoteAddr" in conn)) {
    conn.close();
    throw new Error("TLS over a detour is not supported by this build");
  }
  const t = await Deno.startTls(conn as Deno.TcpConn, {
    hostname: cfg.serverName,
    caCerts: cfg.caCerts,
    alpnProtocols: cfg.alpn,
  });
  try {
    await t.handshake();
  } catch (e) {
    t.close();
    throw e;
  }
  return t;
}
