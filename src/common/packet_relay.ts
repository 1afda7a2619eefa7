/**
 * Relays datagrams between an inbound {@linkcode PacketConn} and an outbound one until either
 * closes or nothing moves for the idle timeout (sing-box `udp_timeout`, default 5 min).
 *
 * @module
 */
import type { PacketConn, Socksaddr } from "../adapter/types.ts";
import type { RelayCounters } from "./relay.ts";

/** Default UDP idle timeout, ms (sing-box `C.UDPTimeout`). */
export const DEFAULT_UDP_TIMEOUT_MS = 5 * 60_000;

/** Options of {@linkcode relayPackets}. */
export interface PacketRelayOptions {
  /** @default 300000 */
  idleTimeoutMs?: number;
  counters?: RelayCounters;
  /** Rewrites each outgoing destination (route-options `override_address`/`override_port`). */
  rewrite?: (addr: Socksaddr) => Socksaddr;
  signal?: AbortSignal;
}

/** Relays until idle or closed, then closes both; resolves with the counters. */
export async function relayPackets(
  client: PacketConn,
  remote: PacketConn,
  options: PacketRelayOptions = {},
): Promise<RelayCounters> {
  const counters = options.counters ?? { upload: 0, download: 0 };
  const idle = options.idleTimeoutMs ?? DEFAULT_UDP_TIMEOUT_MS;
  let last = performance.now();
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    client.close();
    remote.close();
  };
  const timer = setInterval(() => {
    if (performance.now() - last >= idle) closeBoth();
  }, Math.max(50, Math.min(idle / 4, 10_000)));
  options.signal?.addEventListener("abort", closeBoth, { once: true });
  const rewrite = options.rewrite ?? ((a: Socksaddr) => a);
  const up = (async () => {
    for (;;) {
      const p = await client.readPacket();
      if (!p) break;
      last = performance.now();
      counters.upload += p.data.length;
      await remote.writePacket(p.data, rewrite(p.addr)).catch(() => {/* drop undeliverable datagram */});
    }
  })();
  const down = (async () => {
    for (;;) {
      const p = await remote.readPacket();
      if (!p) break;
      last = performance.now();
      counters.download += p.data.length;
      await client.writePacket(p.data, p.addr).catch(() => {/* client gone */});
    }
  })();
  await Promise.race([up.catch(() => {}), down.catch(() => {})]);
  closeBoth();
  await Promise.allSettled([up, down]);
  clearInterval(timer);
  options.signal?.removeEventListener("abort", closeBoth);
  return counters;
}
