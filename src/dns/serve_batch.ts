/**
 * A UDP DNS server on Linux that moves datagrams in batches with `recvmmsg`/`sendmmsg` through
 * FFI (up to 64 per system call), answering cache hits and rule answers synchronously from the
 * router ({@linkcode DnsRouter.exchangeSync}) and everything else through the full async path.
 * Deno's own UDP API costs one op per datagram, which caps a DNS server well below dnsmasq;
 * this path is for a DNS inbound under load. The socket is the shared `ffi/udp_batch.ts`
 * {@linkcode UdpBatchSocket} (readiness from the shared FFI poller).
 *
 * @module
 */
import { parseSockaddr } from "../../ffi/libc.ts";
import { UdpBatchSocket } from "../../ffi/udp_batch.ts";
import type { Metadata } from "../adapter/types.ts";
import { formatIp, parseIp } from "../common/ip.ts";
import type { Logger } from "../common/log.ts";
import type { DnsRouter } from "./router.ts";
import { answerAsync, truncateResponse, udpLimit } from "./serve.ts";
import { isResponse } from "./wire.ts";

/** Datagrams per recvmmsg/sendmmsg call. */
const BATCH = 64;
/** Largest query read and answer sent, bytes (EDNS answers past it are truncated to TC first). */
const SLOT = 4096;

/** A batch UDP DNS server. */
export interface BatchDnsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves UDP DNS on `hostname:port` with batched system calls (Linux only).
 *
 * @throws {OSError} If the socket cannot be bound
 * @throws {TypeError} If `hostname` is not an IP address
 */
export function listenDnsBatch(
  router: DnsRouter,
  options: { hostname: string; port: number; inbound?: string; logger?: Logger },
): BatchDnsListener {
  if (!parseIp(options.hostname)) {
    throw new TypeError(`Cannot listen on "${options.hostname}": not an IP address`);
  }
  const sock = UdpBatchSocket.bind(options.hostname, options.port, {
    batch: BATCH,
    txBatch: BATCH,
    slotSize: SLOT,
    maxBatchesPerWake: 16,
  });
  const port = sock.port;
  const base: Metadata = {
    inbound: options.inbound ?? "dns-in",
    inboundType: "direct",
    network: "udp",
    source: { host: "", port: 0 },
    destination: { host: options.hostname, port },
  };
  const pending = new Set<Promise<void>>();
  let closed = false;

  sock.start((query, from) => {
    if (query.length < 12 || isResponse(query)) return;
    const src = parseSockaddr(from);
    const md = { ...base, source: { host: src ? formatIp(src.addr) : "", port: src?.port ?? 0 } };
    const fast = router.exchangeSync(query, md);
    if (fast === null) return;
    if (fast !== undefined) {
      sock.send(truncateResponse(fast, Math.min(udpLimit(query), SLOT)), from);
      return;
    }
    // `query` and `from` are views into the receive buffers: keep copies for the async answer.
    const copy = query.slice();
    const to = from.slice();
    const p = answerAsync(router, copy, md, options.logger).then((r) => {
      if (!r || closed) return;
      sock.send(truncateResponse(r, Math.min(udpLimit(copy), SLOT)), to);
      sock.flush();
    });
    pending.add(p);
    p.finally(() => pending.delete(p));
  }, () => sock.flush());

  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      sock.stop();
      await Promise.all([...pending]);
      sock.close();
    },
  };
}
