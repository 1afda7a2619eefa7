/**
 * Client TLS for proxy outbounds: Deno's rustls (`Deno.startTls`) over a dialed TCP stream,
 * or `node:tls` when `insecure` is set.
 *
 * @module
 */
import tls from "node:tls";
import type { Dialer, DialOptions, Socksaddr, Stream } from "../../adapter/types.ts";
import type { Logger } from "../../common/log.ts";
import { NodeDuplexStream, StreamDuplex } from "../../common/node_stream.ts";
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
 * Opens a TLS stream to `server`: rustls when the dialer returns a `Deno.TcpConn`, `node:tls`
 * over the stream otherwise (a detour); the insecure path connects itself.
 *
 * @throws {Error} On handshake or verification failure
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
  if (!("setNoDelay" in conn) || !("remoteAddr" in conn)) return await startTlsOverStream(conn, cfg);
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

/**
 * Starts client TLS over an open stream that is not a plain TCP connection (a proxied stream, a
 * detour): `node:tls` over the stream. Extra `caCerts` are trusted besides the system roots, as
 * on the native path. Closes `stream` when the handshake fails.
 *
 * @throws {Error} On handshake or verification failure
 */
export async function startTlsOverStream(stream: Stream, cfg: TlsClientConfig): Promise<Stream> {
  const socket = tls.connect({
    socket: new StreamDuplex(stream) as never,
    servername: cfg.serverName,
    rejectUnauthorized: !cfg.insecure,
    ALPNProtocols: cfg.alpn,
    ca: cfg.caCerts ? [...tls.rootCertificates, ...cfg.caCerts] : undefined,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return new NodeDuplexStream(socket as never);
}
