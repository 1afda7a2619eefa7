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

/** The preamble got no Response in any attempt. */
export class HandshakeFailedError extends Error {
  constructor(attempts: number, timeoutMs: number, options?: ErrorOptions) {
    super(`paniq handshake failed: no response after ${attempts} attempts of ${timeoutMs} ms`, options);
    this.name = "HandshakeFailedError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sameAddr(a: Deno.Addr, host: string, port: number): boolean {
  const na = a as Deno.NetAddr;
  return na.port === port && (na.hostname === host || na.hostname === `::ffff:${host}`);
}

/** A live tunnel: QUIC connects to `127.0.0.1:localPort`. */
export class ClientTunnel {
  readonly localPort: number;
  readonly remote: { hostname: string; port: number };
  readonly #outer: Deno.DatagramConn;
  readonly #inner: Deno.DatagramConn;
  #quicAddr: Deno.NetAddr | null = null;
  #closed = false;
  /** Resolves when the tunnel closes. */
  readonly done: Promise<void>;

  private constructor(
    outer: Deno.DatagramConn,
    inner: Deno.DatagramConn,
    remote: { hostname: string; port: number },
    cfg: ResolvedClient,
    counters: EnvelopeCounters,
  ) {
    this.#outer = outer;
    this.#inner = inner;
    this.remote = remote;
    this.localPort = (inner.addr as Deno.NetAddr).port;
    const codec = newClientCodec(cfg, counters);
    const maxInner = Math.min(codec.maxInner, cfg.quicPacketSize);
    const up = (async () => {
      for (;;) {
        const [data, from] = await inner.receive();
        this.#quicAddr ??= from as Deno.NetAddr;
        if (data.length > maxInner) {
          counters.size_violation++;
          continue; // larger than the fixed packet size: a PMTU probe, let it be lost
        }
        const frame = codec.encode(data);
        if (frame) outer.send(frame, { transport: "udp", ...remote }).catch(() => {});
      }
    })();
    const down = (async () => {
      for (;;) {
        const [data, from] = await outer.receive();
        if (!sameAddr(from, remote.hostname, remote.port)) continue;
        const innerPkt = codec.decode(data);
        if (innerPkt && this.#quicAddr) inner.send(innerPkt, this.#quicAddr).catch(() => {});
      }
    })();
    this.done = Promise.allSettled([up, down]).then(() => this.close());
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
    const outer = Deno.listenDatagram({
      transport: "udp",
      hostname: addr.family === 6 ? "::" : "0.0.0.0",
      port: 0,
    });
    try {
      await handshake(outer, remote, cfg, counters, signal);
    } catch (e) {
      outer.close();
      throw e;
    }
    const inner = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    return new ClientTunnel(outer, inner, remote, cfg, counters);
  }

  /** Closes both sockets. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.#outer, this.#inner]) {
      try {
        s.close();
      } catch { /* closed */ }
    }
  }
}

async function handshake(
  sock: Deno.DatagramConn,
  remote: { hostname: string; port: number },
  cfg: ResolvedClient,
  counters: EnvelopeCounters,
  signal?: AbortSignal,
): Promise<void> {
  const to = { transport: "udp" as const, ...remote };
  const init = buildInitiation(cfg, Date.now());
  // One receive loop for all attempts; it ends when the socket closes or a Response arrives.
  let gotResponse = () => {};
  const response = new Promise<void>((r) => gotResponse = r);
  let listening = true;
  (async () => {
    while (listening) {
      const [data, from] = await sock.receive();
      if (!sameAddr(from, remote.hostname, remote.port)) continue;
      counters.udp_bytes_in += data.length;
      if (isResponse(cfg, data)) {
        gotResponse();
        return;
      }
      counters.decode_fail++;
    }
  })().catch(() => {});
  try {
    for (let attempt = 1; attempt <= cfg.handshakeAttempts; attempt++) {
      if (signal?.aborted) throw signal.reason;
      for (const d of buildPreamble(cfg, Date.now())) {
        await sock.send(d, to);
        counters.udp_bytes_out += d.length;
        const pause = preamblePause(cfg);
        if (pause > 0) await sleep(pause);
      }
      await sock.send(init, to);
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
  } finally {
    listening = false;
  }
}
