/**
 * Client half of the UDP shim (paniq.md §3.2–3.5, §6.3): runs the preamble on a fresh UDP
 * socket, then relays between a loopback socket that Deno's QUIC connects to and the real
 * peer, wrapping every QUIC datagram as a transport frame. One tunnel per QUIC dial, so every
 * reconnect uses a new local UDP port (§11.13).
 *
 * @module
 */
import {
  buildInitiation,
  buildPreamble,
  isResponse,
  newClientCodec,
  preamblePause,
} from "../../protocol/paniq/client_envelope.ts";
import type { EnvelopeCounters } from "../../protocol/paniq/metrics.ts";
import type { ResolvedClient } from "../../protocol/paniq/profile.ts";
import { parseAddr } from "../../common/socks_addr.ts";
import { systemResolve } from "../../common/dialer.ts";
import { decodeSockaddr, encodeSockaddr, sameSockaddr } from "../../../ffi/sockaddr.ts";
import { growQuicBuffer, openShimSocket, type ShimSocket } from "./udp.ts";

/** The preamble got no Response in any attempt. */
export class HandshakeFailedError extends Error {
  constructor(attempts: number, timeoutMs: number, options?: ErrorOptions) {
    super(`paniq handshake failed: no response after ${attempts} attempts of ${timeoutMs} ms`, options);
    this.name = "HandshakeFailedError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A live tunnel: QUIC connects to `127.0.0.1:localPort`. */
export class ClientTunnel {
  /** The loopback port QUIC connects to (0 until the handshake is done). */
  localPort = 0;
  readonly remote: { hostname: string; port: number };
  readonly #outer: ShimSocket;
  #inner: ShimSocket | null = null;
  readonly #remoteSa: Uint8Array;
  readonly #cfg: ResolvedClient;
  readonly #counters: EnvelopeCounters;
  #quicSa: Uint8Array | null = null;
  #closed = false;
  #onResponse: (() => void) | null = null;
  #resolveDone!: () => void;
  /** Resolves when the tunnel closes. */
  readonly done: Promise<void> = new Promise((r) => this.#resolveDone = r);

  private constructor(
    outer: ShimSocket,
    remote: { hostname: string; port: number },
    cfg: ResolvedClient,
    counters: EnvelopeCounters,
  ) {
    this.#outer = outer;
    this.remote = remote;
    this.#remoteSa = encodeSockaddr(remote.hostname, remote.port);
    this.#cfg = cfg;
    this.#counters = counters;
  }

  /**
   * Resolves `proxy_addr`, runs the preamble with retries and returns the running tunnel.
   *
   * @throws {HandshakeFailedError} If no Response arrives in `handshake_attempts` tries
   */
  static async dial(
    cfg: ResolvedClient,
    counters: EnvelopeCounters,
    signal?: AbortSignal,
  ): Promise<ClientTunnel> {
    const target = parseAddr(cfg.proxyAddr);
    const [addr] = await systemResolve(target.host);
    const remote = { hostname: addr.address, port: target.port };
    const outer = openShimSocket(addr.family === 6 ? "::" : "0.0.0.0", 0, { batch: 64 });
    const t = new ClientTunnel(outer, remote, cfg, counters);
    try {
      await t.#handshake(signal);
      t.#startTransport();
    } catch (e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** Starts relaying: QUIC datagrams from the loopback socket are framed to the peer and back. */
  #startTransport(): void {
    const codec = newClientCodec(this.#cfg, this.#counters);
    const counters = this.#counters;
    const maxInner = Math.min(codec.maxInner, this.#cfg.quicPacketSize);
    const outer = this.#outer;
    const inner = this.#inner = openShimSocket("127.0.0.1", 0, { offload: true, batch: 16 });
    this.localPort = inner.port;
    // The handshake is done: fix the peer, so every frame goes out without an address.
    let to: Uint8Array | null = this.#remoteSa;
    try {
      outer.connect(to);
      to = null;
    } catch { /* keep addressing each datagram */ }
    this.#onResponse = null;
    inner.start((data, from) => {
      if (!this.#quicSa) {
        this.#quicSa = from.slice();
        growQuicBuffer(decodeSockaddr(from).port);
      }
      if (data.length > maxInner) {
        counters.size_violation++;
        return; // larger than the fixed packet size: a PMTU probe, let it be lost
      }
      const n = codec.encodeInto(outer.reserve(), data);
      if (n > 0) outer.commit(n, to);
    }, () => outer.flush());
    this.#transportDown = (data) => {
      const o = codec.decodeOffset(data);
      if (o >= 0 && this.#quicSa) inner.send(data.subarray(o, o + codec.innerLength), this.#quicSa);
    };
  }

  #transportDown: ((data: Uint8Array) => void) | null = null;

  async #handshake(signal?: AbortSignal): Promise<void> {
    const cfg = this.#cfg;
    const counters = this.#counters;
    const sock = this.#outer;
    const to = this.#remoteSa;
    const init = buildInitiation(cfg, Date.now());
    const response = new Promise<void>((r) => this.#onResponse = r);
    sock.start((data, from) => {
      if (!sameSockaddr(from, to)) return;
      if (this.#transportDown) return this.#transportDown(data);
      if (!this.#onResponse) return;
      counters.udp_bytes_in += data.length;
      if (isResponse(cfg, data)) {
        this.#onResponse();
        this.#onResponse = null;
        return;
      }
      counters.decode_fail++;
    }, () => this.#inner?.flush());
    for (let attempt = 1; attempt <= cfg.handshakeAttempts; attempt++) {
      if (signal?.aborted) throw signal.reason;
      for (const d of buildPreamble(cfg, Date.now())) {
        sock.send(d, to);
        sock.flush();
        counters.udp_bytes_out += d.length;
        const pause = preamblePause(cfg);
        if (pause > 0) await sleep(pause);
      }
      sock.send(init, to);
      sock.flush();
      counters.udp_bytes_out += init.length;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        response.then(() => true),
        new Promise<boolean>((r) => timer = setTimeout(() => r(false), cfg.handshakeTimeoutMs)),
      ]);
      clearTimeout(timer);
      if (ok) return;
    }
    throw new HandshakeFailedError(cfg.handshakeAttempts, cfg.handshakeTimeoutMs);
  }

  /** Closes both sockets. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outer.close();
    this.#inner?.close();
    this.#resolveDone();
  }
}
