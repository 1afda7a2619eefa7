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
import type { TransportCodec } from "../../protocol/paniq/transport_codec.ts";
import { decodeSockaddr, encodeSockaddr } from "../../../ffi/sockaddr.ts";
import { growQuicBuffer, openShimSocket, type ShimSocket } from "./udp.ts";

interface Peer {
  key: string;
  /** The peer's sockaddr bytes. */
  sa: Uint8Array;
  shim: ShimSocket;
  shimPort: number;
  codec: TransportCodec;
  lastActive: number;
  /** Has datagrams queued towards QUIC in the current burst. */
  dirty: boolean;
}

const LOG_INTERVAL_MS = 10_000;

/** `ip32 * 65536 + port` for an IPv4 (or v4-mapped) sockaddr, -1 for other IPv6 addresses. */
function numericKey(sa: Uint8Array): number {
  let o = 4;
  if (sa[0] !== 2) {
    for (let i = 8; i < 18; i++) if (sa[i] !== 0) return -1;
    if (sa[18] !== 0xff || sa[19] !== 0xff) return -1;
    o = 20;
  }
  return ((sa[o] << 24) >>> 0) * 16777216 + ((sa[o + 1] << 16) | (sa[o + 2] << 8) | sa[o + 3]) * 65536 +
    ((sa[2] << 8) | sa[3]) + (sa[0] !== 2 ? 2 ** 52 : 0);
}

/** The server shim. */
export class ServerTunnel {
  readonly envelope: ServerEnvelope;
  readonly #sock: ShimSocket;
  readonly #addr: Deno.NetAddr;
  readonly #quicSa: Uint8Array;
  readonly #peers = new Map<string, Peer>();
  /** Ready peers by {@linkcode numericKey} (IPv4 and v4-mapped), to skip building the key string. */
  readonly #fast = new Map<number, Peer>();
  readonly #byShimPort = new Map<number, Peer>();
  readonly #dirty: Peer[] = [];
  readonly #log: Logger;
  readonly #lastLog = new Map<string, number>();
  readonly #idleMs: number;
  readonly #maxInner: number;
  #now = 0;
  readonly #onPeer: (key: string, quicPort: number, open: boolean) => void;
  #timer: ReturnType<typeof setInterval>;
  #closed = false;
  #resolveDone!: () => void;
  /** Resolves when the tunnel closes. */
  readonly done: Promise<void> = new Promise((r) => this.#resolveDone = r);

  /**
   * @param sock the public socket (bound to `addr`)
   * @param quicAddr the local QUIC endpoint decoded packets go to
   * @param onPeer told when a ready peer's loopback socket (its QUIC-side port) opens or closes
   */
  constructor(
    sock: ShimSocket,
    addr: { hostname: string; port: number },
    cfg: ResolvedServer,
    counters: EnvelopeCounters,
    quicAddr: Deno.NetAddr,
    log: Logger,
    onPeer: (key: string, quicPort: number, open: boolean) => void = () => {},
  ) {
    this.#onPeer = onPeer;
    this.#sock = sock;
    this.#addr = { transport: "udp", hostname: addr.hostname, port: sock.port };
    this.#quicSa = encodeSockaddr(quicAddr.hostname, quicAddr.port);
    growQuicBuffer(quicAddr.port);
    this.#log = log;
    this.envelope = new ServerEnvelope(cfg, counters);
    // A ready peer that is silent for longer than the QUIC idle timeout is gone.
    this.#idleMs = cfg.idleTimeoutMs + 10_000;
    this.#maxInner = cfg.quicPacketSize;
    this.#timer = setInterval(() => this.#collect(), 1000);
    sock.start((data, from) => this.#onDatagram(data, from), () => this.#endBurst());
  }

  /** The real listening address. */
  get addr(): Deno.NetAddr {
    return this.#addr;
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

  #onDatagram(data: Uint8Array, from: Uint8Array): void {
    const now = this.#now ||= Date.now();
    const nk = numericKey(from);
    const fast = nk >= 0 ? this.#fast.get(nk) : undefined;
    if (fast) {
      // A ready peer: exactly what ServerEnvelope.handleDatagram does for it, without the event.
      const codec = fast.codec;
      const o = codec.decodeOffset(data);
      if (o < 0) return;
      fast.lastActive = now;
      fast.shim.send(data.subarray(o, o + codec.innerLength), this.#quicSa);
      if (!fast.dirty) {
        fast.dirty = true;
        this.#dirty.push(fast);
      }
      return;
    }
    const { hostname, port } = decodeSockaddr(from);
    const key = `${hostname}:${port}`;
    let ev;
    try {
      ev = this.envelope.handleDatagram(now, key, hostname, data);
    } catch (e) {
      this.#logDrop("internal", key, String(e));
      return;
    }
    switch (ev.kind) {
      case "transport": {
        const peer = this.#peers.get(key);
        if (!peer) break;
        peer.lastActive = now;
        peer.shim.send(ev.inner, this.#quicSa);
        peer.shim.flush();
        break;
      }
      case "ready":
        this.#sock.send(ev.response, from);
        this.#sock.flush();
        this.#openPeer(key, from.slice(), now);
        break;
      case "drop":
        if (ev.reason !== "transport") this.#logDrop(ev.reason, key, ev.detail);
        break;
    }
  }

  #endBurst(): void {
    this.#now = 0;
    for (const p of this.#dirty) {
      p.dirty = false;
      p.shim.flush();
    }
    this.#dirty.length = 0;
  }

  #openPeer(key: string, sa: Uint8Array, now: number): void {
    const old = this.#peers.get(key);
    if (old) this.#dropPeer(old, false);
    const codec = this.envelope.transportCodec(key);
    if (!codec) return;
    const shim = openShimSocket("127.0.0.1", 0, { offload: true, batch: 8 });
    const peer: Peer = { key, sa, shim, shimPort: shim.port, codec, lastActive: now, dirty: false };
    this.#peers.set(key, peer);
    this.#byShimPort.set(peer.shimPort, peer);
    const nk = numericKey(sa);
    if (nk >= 0) this.#fast.set(nk, peer);
    this.#onPeer(key, peer.shimPort, true);
    const maxInner = this.#maxInner;
    const sock = this.#sock;
    const counters = this.envelope.counters;
    shim.start((data) => {
      if (data.length > maxInner) {
        // Above the fixed QUIC packet size (a PMTU probe): lost, as on a real path.
        counters.size_violation++;
        return;
      }
      const n = codec.encodeInto(sock.reserve(), data);
      if (n > 0) sock.commit(n, sa);
    }, () => {
      peer.lastActive = Date.now();
      sock.flush();
    });
  }

  #dropPeer(p: Peer, forget = true): void {
    p.shim.close();
    this.#peers.delete(p.key);
    this.#byShimPort.delete(p.shimPort);
    const nk = numericKey(p.sa);
    if (this.#fast.get(nk) === p) this.#fast.delete(nk);
    if (forget) this.envelope.forget(p.key);
    this.#onPeer(p.key, p.shimPort, false);
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
    this.#sock.close();
    this.#resolveDone();
  }
}
