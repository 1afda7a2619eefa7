/**
 * Serving DNS over QUIC (RFC 9250) on the inbound side: every query arrives on its own
 * bidirectional stream as a 2-byte length and a message with ID 0; the answer goes back the
 * same way and the stream is finished. A query with a nonzero ID, or a stream that is not one
 * complete length-prefixed message, closes the connection with DOQ_PROTOCOL_ERROR (§4.3.3).
 * Answers to EDNS queries are padded to 468-byte blocks (§5.4, see `padding.ts`).
 *
 * @example Usage
 * ```ts ignore
 * const server = serveDoq(routerAnswerer(router), { port: 853, cert, key });
 * await server.shutdown();
 * ```
 * @module
 */
import type { Metadata } from "../adapter/types.ts";
import type { Logger } from "../common/log.ts";
import type { DnsRouter } from "./router.ts";
import { answerToSend, receivedQuery } from "./padding.ts";
import { answerAsync } from "./serve.ts";
import { DOQ_ALPN, DOQ_ERROR, frameMessage, readAll } from "./transports/quic.ts";
import { getId, isResponse } from "./wire.ts";

/** Answers one DNS query; `null` drops it. */
export type DnsAnswerer = (query: Uint8Array, metadata: Metadata) => Promise<Uint8Array | null>;

/** Answers through `router`: the synchronous cache/rule fast path first, then a full exchange. */
export function routerAnswerer(router: DnsRouter, logger?: Logger): DnsAnswerer {
  return async (query, metadata) => {
    if (query.length < 12 || isResponse(query)) return null;
    const fast = router.exchangeSync(query, metadata);
    if (fast !== undefined) return fast;
    return await answerAsync(router, query, metadata, logger);
  };
}

/** Options of {@linkcode serveDoq}. */
export interface DoqServerOptions {
  /** @default "0.0.0.0" */
  hostname?: string;
  /** @default 853 */
  port?: number;
  cert: string;
  key: string;
  /** Inbound tag put in the metadata. @default "doq-in" */
  inbound?: string;
  logger?: Logger;
  /** Aborting shuts the server down. */
  signal?: AbortSignal;
  /** QUIC idle timeout for client connections (ms). @default 30000 */
  idleTimeout?: number;
}

/** A running DNS-over-QUIC server. */
export interface DnsQuicServer {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  /** Stops accepting and closes every connection with DOQ_NO_ERROR. */
  shutdown(): Promise<void>;
}

/** Serves DNS over QUIC with `answer`. */
export function serveDoq(answer: DnsAnswerer, options: DoqServerOptions): DnsQuicServer {
  const endpoint = new Deno.QuicEndpoint({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 853,
  });
  const listener = endpoint.listen({
    cert: options.cert,
    key: options.key,
    alpnProtocols: [DOQ_ALPN],
    maxIdleTimeout: options.idleTimeout ?? 30000,
    maxConcurrentBidirectionalStreams: 256,
  });
  const conns = new Set<Deno.QuicConn>();
  const tasks = new Set<Promise<void>>();
  let stopping = false;
  const log = options.logger;
  const accepting = (async () => {
    while (!stopping) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await listener.incoming();
      } catch {
        break;
      }
      if (stopping) {
        incoming.refuse();
        continue;
      }
      const task = (async () => {
        let conn: Deno.QuicConn;
        try {
          conn = await incoming.accept();
        } catch (e) {
          log?.debug(`DoQ handshake failed: ${e}`);
          return;
        }
        conns.add(conn);
        try {
          await serveConnection(conn, answer, options);
        } finally {
          conns.delete(conn);
        }
      })();
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();
  let stopped: Promise<void> | undefined;
  const finished = Promise.withResolvers<void>();
  const shutdown = () =>
    stopped ??= (async () => {
      stopping = true;
      for (const c of conns) {
        try {
          c.close({ closeCode: DOQ_ERROR.NO_ERROR, reason: "" });
        } catch { /* closed */ }
      }
      await Promise.all([...tasks]);
      endpoint.close();
      await accepting;
      finished.resolve();
    })();
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  return { addr: endpoint.addr, finished: finished.promise, shutdown };
}

async function serveConnection(
  conn: Deno.QuicConn,
  answer: DnsAnswerer,
  options: DoqServerOptions,
): Promise<void> {
  const remote = conn.remoteAddr;
  const metadata: Metadata = {
    inbound: options.inbound ?? "doq-in",
    inboundType: "quic",
    network: "udp",
    source: { host: remote.hostname, port: remote.port },
    destination: { host: "", port: 0 },
  };
  const protocolError = (detail: string) => {
    options.logger?.debug(`DoQ protocol error from ${remote.hostname}: ${detail}`);
    try {
      conn.close({ closeCode: DOQ_ERROR.PROTOCOL_ERROR, reason: detail });
    } catch { /* closed */ }
  };
  try {
    for await (const stream of conn.incomingBidirectionalStreams) {
      (async () => {
        let data: Uint8Array;
        try {
          data = await readAll(stream.readable);
        } catch {
          protocolError("query stream longer than one message");
          return;
        }
        const len = data.length >= 2 ? (data[0] << 8) | data[1] : -1;
        if (len < 12 || data.length !== len + 2) {
          return protocolError("stream is not one length-prefixed message");
        }
        if (getId(data.subarray(2)) !== 0) return protocolError("query ID is not 0");
        const { query, padAnswer } = receivedQuery(data.subarray(2));
        const reply = await answer(query, metadata);
        const w = stream.writable.getWriter();
        if (reply) await w.write(frameMessage(answerToSend(reply, padAnswer)));
        await w.close();
      })().catch((e) => options.logger?.debug(`DoQ stream failed: ${e}`));
    }
  } catch {
    // connection closed
  }
  await conn.closed.catch(() => {});
}
