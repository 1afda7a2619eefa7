/**
 * Server half of the UDP shim (paniq.md §5.1, §7): one real UDP socket runs the
 * {@linkcode ServerEnvelope}; each peer that completes its preamble gets its own loopback socket
 * towards the local QUIC endpoint, so Deno's QUIC sees one ordinary client per remote peer.
 *
 * @module
 */
import type { Logger } from "../../common/log.ts";
import type { EnvelopeCounters } from "../../protocol/paniq/metrics.ts";
import type { ResolvedServer } from "../../protocol/paniq/profile.ts";
import { ServerEnvelope } from "../../protocol/paniq/server_envelope.ts";

interface Peer {
  key: string;
  addr: Deno.NetAddr;
  shim: Deno.DatagramConn;
  shimPort: number;
  lastActive: number;
}

const LOG_INTERVAL_MS = 10_000;

/** The server shim. */
export class ServerTunnel {
  readonly envelope: ServerEnvelope;
  readonly #sock: Deno.DatagramConn;
  readonly #quicAddr: Deno.NetAddr;
  readonly #peers = new Map<string, Peer>();
  readonly #byShimPort = new Map<number, Peer>();
  readonly #log: Logger;
  readonly #lastLog = new Map<string, number>();
  readonly #idleMs: number;
  readonly #maxInner: number;
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  readonly done: Promise<void>;

  /**
   * @param quicAddr the local QUIC endpoint decoded packets go to
   */
  constructor(
    sock: Deno.DatagramConn,
    cfg: ResolvedServer,
    counters: EnvelopeCounters,
    quicAddr: Deno.NetAddr,
    log: Logger,
  ) {
    this.#sock = sock;
    this.#quicAddr = quicAddr;
    this.#log = log;
    this.envelope = new ServerEnvelope(cfg, counters);
    // A ready peer that is silent for longer than the QUIC idle timeout is gone.
    this.#idleMs = cfg.idleTimeoutMs + 10_000;
    this.#maxInner = cfg.quicPacketSize;
    this.#timer = setInterval(() => this.#collect(), 1000);
    this.done = this.#run().finally(() => this.close());
  }

  /** The real listening address. */
  get addr(): Deno.NetAddr {
    return this.#sock.addr as Deno.NetAddr;
  }

  /** Number of ready peers with a shim socket. */
  get readyPeers(): number {
    return this.#peers.size;
  }

  /** The remote peer behind a QUIC connection's loopback address, if any. */
  peerForQuicPort(port: number): string | undefined {
    return this.#byShimPort.get(port)?.key;
  }

  /** Closes a peer's shim and forgets its envelope state (its QUIC connection ended). */
  closePeerByQuicPort(port: number): void {
    const p = this.#byShimPort.get(port);
    if (p) this.#dropPeer(p);
  }

  async #run(): Promise<void> {
    for (;;) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await this.#sock.receive();
      } catch (e) {
        if (this.#closed) return;
        throw e;
      }
      const addr = from as Deno.NetAddr;
      const key = `${addr.hostname}:${addr.port}`;
      const now = Date.now();
      let ev;
      try {
        ev = this.envelope.handleDatagram(now, key, addr.hostname, data);
      } catch (e) {
        this.#logDrop("internal", key, String(e));
        continue;
      }
      switch (ev.kind) {
        case "transport": {
          const peer = this.#peers.get(key);
          if (!peer) break;
          peer.lastActive = now;
          peer.shim.send(ev.inner, this.#quicAddr).catch(() => {});
          break;
        }
        case "ready":
          this.#sock.send(ev.response, addr).catch(() => {});
          this.#openPeer(key, addr, now);
          break;
        case "drop":
          if (ev.reason !== "transport") this.#logDrop(ev.reason, key, ev.detail);
          break;
      }
    }
  }

  #openPeer(key: string, addr: Deno.NetAddr, now: number): void {
    const old = this.#peers.get(key);
    if (old) this.#dropPeer(old, false);
    const shim = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const peer: Peer = { key, addr, shim, shimPort: (shim.addr as Deno.NetAddr).port, lastActive: now };
    this.#peers.set(key, peer);
    this.#byShimPort.set(peer.shimPort, peer);
    const maxInner = this.#maxInner;
    (async () => {
      for (;;) {
        const [data] = await shim.receive();
        if (data.length > maxInner) {
          // Above the fixed QUIC packet size (a PMTU probe): lost, as on a real path.
          this.envelope.counters.size_violation++;
          continue;
        }
        const frame = this.envelope.encodeTransport(key, data);
        if (frame) {
          peer.lastActive = Date.now();
          this.#sock.send(frame, addr).catch(() => {});
        }
      }
    })().catch(() => {});
  }

  #dropPeer(p: Peer, forget = true): void {
    try {
      p.shim.close();
    } catch { /* closed */ }
    this.#peers.delete(p.key);
    this.#byShimPort.delete(p.shimPort);
    if (forget) this.envelope.forget(p.key);
  }

  #collect(): void {
    const now = Date.now();
    this.envelope.collect(now);
    for (const p of [...this.#peers.values()]) if (now - p.lastActive > this.#idleMs) this.#dropPeer(p);
  }

  #logDrop(reason: string, addr: string, msg: string): void {
    const now = Date.now();
    if (now - (this.#lastLog.get(reason) ?? 0) < LOG_INTERVAL_MS) return;
    this.#lastLog.set(reason, now);
    this.#log.warn(`envelope drop reason=${reason} addr=${addr} msg="${msg}"`);
  }

  /** Closes the socket and every peer shim. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const p of [...this.#peers.values()]) this.#dropPeer(p);
    try {
      this.#sock.close();
    } catch { /* closed */ }
  }
}
