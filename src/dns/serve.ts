/**
 * Answering DNS clients with the router: the `hijack-dns` action hands a packet connection or a
 * stream here (sing-box `dns.HandleStreamDNSRequest` / `NewDNSPacketConnection`). UDP answers
 * larger than the client's limit (512 bytes, or its EDNS0 payload size) are truncated with TC
 * set so the client retries over TCP. {@linkcode listenDns} binds plain sockets for tests and
 * the benchmark.
 *
 * @module
 */
import type { Metadata, PacketConn, Socksaddr, Stream } from "../adapter/types.ts";
import type { Logger } from "../common/log.ts";
import type { DnsRouter } from "./router.ts";
import { readStreamMessage, writeStreamMessage } from "./transports/_stream.ts";
import { getCounts, isResponse, readQuestion, skipName, TYPE } from "./wire.ts";

/** The largest UDP answer a query allows: its OPT payload size (at least 512), else 512. */
export function udpLimit(query: Uint8Array): number {
  const [qd, an, ns, ar] = getCounts(query);
  if (ar === 0) return 512;
  try {
    let p = 12;
    for (let i = 0; i < qd; i++) p = skipName(query, p) + 4;
    for (let i = 0; i < an + ns + ar; i++) {
      p = skipName(query, p);
      const type = (query[p] << 8) | query[p + 1];
      if (type === TYPE.OPT) return Math.max(512, (query[p + 2] << 8) | query[p + 3]);
      p += 10 + ((query[p + 8] << 8) | query[p + 9]);
    }
  } catch { /* malformed: be conservative */ }
  return 512;
}

/** Cuts `response` down to header + question with TC set when it exceeds `limit`. */
export function truncateResponse(response: Uint8Array, limit: number): Uint8Array {
  if (response.length <= limit) return response;
  const q = readQuestion(response);
  const end = q ? q.end : 12;
  const out = response.slice(0, end);
  out[2] |= 0x02; // TC
  out[4] = 0;
  out[5] = q ? 1 : 0;
  out.fill(0, 6, 12);
  return out;
}

async function answer(router: DnsRouter, query: Uint8Array, metadata: Metadata, logger?: Logger) {
  if (query.length < 12 || isResponse(query)) return null;
  const fast = router.exchangeSync(query, metadata);
  if (fast !== undefined) return fast;
  return await answerAsync(router, query, metadata, logger);
}

/**
 * A header-only answer with `rcode` (RA set) echoing the question when it parses: FORMERR for a
 * malformed query, SERVFAIL for a failed exchange.
 */
export function errorResponse(query: Uint8Array, rcode: number): Uint8Array {
  let end = 12;
  try {
    const q = readQuestion(query);
    if (q) end = q.end;
  } catch { /* malformed question: header only */ }
  const out = query.slice(0, end);
  out[2] = (out[2] | 0x80) & ~0x02;
  out[3] = 0x80 | rcode;
  out[4] = 0;
  out[5] = end > 12 ? 1 : 0;
  out.fill(0, 6, 12);
  return out;
}

/** Answers through the full router; malformed queries get FORMERR, failures SERVFAIL. */
export async function answerAsync(router: DnsRouter, query: Uint8Array, metadata: Metadata, logger?: Logger) {
  try {
    return await router.exchange(query, metadata);
  } catch (e) {
    logger?.debug(`DNS query failed: ${(e as Error).message}`);
    return errorResponse(query, e instanceof RangeError || e instanceof SyntaxError ? 1 : 2);
  }
}

/**
 * Answers every datagram read from `conn` until it closes. Each query is handled
 * concurrently; `metadata.source` is replaced by the datagram's sender.
 */
export async function serveDnsPackets(
  router: DnsRouter,
  conn: PacketConn,
  metadata: Metadata,
  logger?: Logger,
): Promise<void> {
  for (;;) {
    const packet = await conn.readPacket();
    if (!packet) return;
    const from: Socksaddr = packet.addr;
    void answer(router, packet.data, { ...metadata, source: from, network: "udp" }, logger).then(
      async (r) => {
        if (!r) return;
        try {
          await conn.writePacket(truncateResponse(r, udpLimit(packet.data)), from);
        } catch { /* closed */ }
      },
    );
  }
}

/** Answers length-prefixed queries on a stream until the client closes it. */
export async function serveDnsStream(
  router: DnsRouter,
  stream: Stream,
  metadata: Metadata,
  logger?: Logger,
): Promise<void> {
  try {
    for (;;) {
      const query = await readStreamMessage(stream);
      if (!query) return;
      const r = await answer(router, query, { ...metadata, network: "tcp" }, logger);
      if (r) await writeStreamMessage(stream, r);
    }
  } catch (e) {
    logger?.debug(`DNS stream ended: ${(e as Error).message}`);
  } finally {
    try {
      stream.close();
    } catch { /* closed */ }
  }
}

/** A DNS server bound to UDP and TCP on one address. */
export interface DnsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `router` on UDP and TCP at `hostname:port` (port 0 picks one free for both).
 *
 * @example Usage
 * ```ts ignore
 * const server = listenDns(router, { hostname: "127.0.0.1", port: 5353, inbound: "dns-in" });
 * await server.close();
 * ```
 */
export function listenDns(
  router: DnsRouter,
  options: { hostname: string; port: number; inbound?: string; logger?: Logger },
): DnsListener {
  const tcp = Deno.listen({ hostname: options.hostname, port: options.port });
  const port = (tcp.addr as Deno.NetAddr).port;
  let udp: Deno.DatagramConn;
  try {
    udp = Deno.listenDatagram({ transport: "udp", hostname: options.hostname, port });
  } catch (e) {
    tcp.close();
    throw e;
  }
  const base: Metadata = {
    inbound: options.inbound ?? "dns-in",
    inboundType: "direct",
    network: "udp",
    source: { host: "", port: 0 },
    destination: { host: options.hostname, port },
  };
  const streams = new Set<Promise<void>>();
  const conns = new Set<Deno.TcpConn>();
  const tcpLoop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await tcp.accept();
      } catch {
        return;
      }
      const remote = conn.remoteAddr as Deno.NetAddr;
      conns.add(conn);
      const p = serveDnsStream(router, conn, {
        ...base,
        source: { host: remote.hostname, port: remote.port },
      }, options.logger)
        .finally(() => {
          conns.delete(conn);
          streams.delete(p);
        });
      streams.add(p);
    }
  })();
  const pending = new Set<Promise<void>>();
  // Several receives in flight keep Deno's UDP op pipeline busy (about 2x one loop).
  const udpLoop = Promise.all(Array.from({ length: 8 }, async () => {
    for (;;) {
      let data: Uint8Array, addr: Deno.Addr;
      try {
        [data, addr] = await udp.receive();
      } catch {
        return;
      }
      const from = addr as Deno.NetAddr;
      if (data.length < 12 || isResponse(data)) continue;
      const md = { ...base, source: { host: from.hostname, port: from.port } };
      const fast = router.exchangeSync(data, md);
      if (fast !== undefined) {
        if (fast) udp.send(truncateResponse(fast, udpLimit(data)), from).catch(() => 0);
        continue;
      }
      const p = answerAsync(router, data, md, options.logger).then(async (r) => {
        if (r) await udp.send(truncateResponse(r, udpLimit(data)), from).catch(() => 0);
      });
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
  }));
  return {
    port,
    async close() {
      tcp.close();
      udp.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.all([tcpLoop, udpLoop, ...pending, ...streams]);
    },
  };
}
