/**
 * Main-thread side of the shim thread ({@linkcode ./shim_worker.ts}): one Worker per process,
 * shared by every paniq client and server, started when the first one is created and stopped
 * (after closing its sockets) when the last one closes. {@linkcode RemoteClientTunnel} and
 * {@linkcode RemoteServerTunnel} mirror the in-thread tunnels' surface; envelope counters arrive
 * as deltas every 250 ms and are added to the caller's counters.
 *
 * Used only where the FFI sockets are (Linux with `--allow-ffi`), unless `SWITCHYARD_PANIQ_SHIM`
 * is `inline`; elsewhere the tunnels run on the main thread.
 *
 * @module
 */
import type { Logger } from "../../common/log.ts";
import type { EnvelopeCounters } from "../../protocol/paniq/metrics.ts";
import type { ResolvedClient, ResolvedServer } from "../../protocol/paniq/profile.ts";
import { encodeBase64 } from "../../protocol/paniq/keys.ts";
import { HandshakeFailedError } from "./client_tunnel.ts";
import { ffiSocketsAvailable } from "./udp.ts";

// deno-lint-ignore no-explicit-any
type Msg = any;

interface TunnelSink {
  counters: EnvelopeCounters;
  onMessage(m: Msg): void;
  onDone(): void;
}

/** The shared shim Worker. */
export class ShimHost {
  static #shared: ShimHost | null = null;
  readonly #worker: Worker;
  readonly #replies = new Map<number, (m: Msg) => void>();
  readonly #tunnels = new Map<number, TunnelSink>();
  #refs = 0;
  #next = 1;
  #dead = false;

  private constructor() {
    this.#worker = new Worker(new URL("./shim_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e) => this.#onMessage(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`paniq shim thread failed: ${e.message}`));
    };
  }

  /** True if tunnels should run on the shim thread. */
  static enabled(): boolean {
    try {
      return ffiSocketsAvailable() && Deno.env.get("SWITCHYARD_PANIQ_SHIM") !== "inline";
    } catch {
      return false;
    }
  }

  /** Takes a reference on the shared host (starting the Worker if needed). Pair with `release`. */
  static acquire(): ShimHost {
    const h = ShimHost.#shared && !ShimHost.#shared.#dead
      ? ShimHost.#shared
      : (ShimHost.#shared = new ShimHost());
    h.#refs++;
    return h;
  }

  /** Drops a reference; the last one closes every hosted socket and ends the Worker. */
  release(): void {
    if (--this.#refs > 0 || this.#dead) return;
    this.#dead = true;
    if (ShimHost.#shared === this) ShimHost.#shared = null;
    this.#worker.postMessage({ op: "shutdown" });
  }

  #fail(err: Error): void {
    this.#dead = true;
    if (ShimHost.#shared === this) ShimHost.#shared = null;
    for (const r of this.#replies.values()) r({ error: err.message });
    this.#replies.clear();
    for (const t of this.#tunnels.values()) t.onDone();
    this.#tunnels.clear();
    this.#worker.terminate();
  }

  #onMessage(m: Msg): void {
    if (m.op === "reply") {
      const r = this.#replies.get(m.rq);
      this.#replies.delete(m.rq);
      r?.(m);
      return;
    }
    if (m.op === "exit") {
      this.#worker.terminate();
      return;
    }
    const t = this.#tunnels.get(m.id);
    if (!t) return;
    if (m.op === "counters") {
      const c = t.counters as unknown as Record<string, number>;
      for (const [k, v] of Object.entries(m.delta as Record<string, number>)) c[k] = (c[k] ?? 0) + v;
    } else if (m.op === "done") {
      this.#tunnels.delete(m.id);
      t.onDone();
    } else {
      t.onMessage(m);
    }
  }

  /** Registers a tunnel and sends its opening request; resolves with the reply. */
  open(sink: TunnelSink, msg: Msg): { id: number; reply: Promise<Msg> } {
    const id = this.#next++;
    const rq = this.#next++;
    if (this.#dead) return { id, reply: Promise.resolve({ error: "paniq shim thread stopped" }) };
    this.#tunnels.set(id, sink);
    const reply = new Promise<Msg>((r) => this.#replies.set(rq, r));
    this.#worker.postMessage({ ...msg, id, rq });
    return { id, reply };
  }

  /** Sends a message about tunnel `id`. */
  send(msg: Msg): void {
    if (!this.#dead || msg.op === "close") this.#worker.postMessage(msg);
  }
}

/** A {@linkcode ClientTunnel} running on the shim thread. */
export class RemoteClientTunnel {
  readonly localPort: number;
  readonly done: Promise<void>;
  readonly #host: ShimHost;
  readonly #id: number;
  #closed = false;

  private constructor(host: ShimHost, id: number, localPort: number, done: Promise<void>) {
    this.#host = host;
    this.#id = id;
    this.localPort = localPort;
    this.done = done;
  }

  /**
   * Dials on the shim thread (same behaviour as {@linkcode ClientTunnel.dial}).
   * @throws {HandshakeFailedError} If no Response arrives in `handshake_attempts` tries
   */
  static async dial(
    host: ShimHost,
    cfg: ResolvedClient,
    counters: EnvelopeCounters,
  ): Promise<RemoteClientTunnel> {
    let onDone!: () => void;
    const done = new Promise<void>((r) => onDone = r);
    const { id, reply } = host.open({ counters, onMessage: () => {}, onDone }, {
      op: "dial",
      profile: cfg.profile,
    });
    const m = await reply;
    if (m.error) {
      if (m.handshake) throw new HandshakeFailedError(cfg.handshakeAttempts, cfg.handshakeTimeoutMs);
      throw new Error(m.error);
    }
    return new RemoteClientTunnel(host, id, m.localPort, done);
  }

  /** Closes the tunnel's sockets (asynchronously, on the shim thread). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.send({ op: "close", id: this.#id });
  }
}

/** A {@linkcode ServerTunnel} running on the shim thread. */
export class RemoteServerTunnel {
  readonly addr: Deno.NetAddr;
  readonly done: Promise<void>;
  readonly #host: ShimHost;
  readonly #id: number;
  readonly #byPort: Map<number, string>;
  #closed = false;

  private constructor(
    host: ShimHost,
    id: number,
    addr: Deno.NetAddr,
    done: Promise<void>,
    byPort: Map<number, string>,
  ) {
    this.#host = host;
    this.#id = id;
    this.addr = addr;
    this.done = done;
    this.#byPort = byPort;
  }

  /**
   * Binds `hostname`:`port` on the shim thread and runs the server envelope there.
   * @throws {Error} If the address is in use or the profile is refused
   */
  static async listen(
    host: ShimHost,
    cfg: ResolvedServer,
    counters: EnvelopeCounters,
    hostname: string,
    port: number,
    quicAddr: Deno.NetAddr,
    log: Logger,
  ): Promise<RemoteServerTunnel> {
    let onDone!: () => void;
    const done = new Promise<void>((r) => onDone = r);
    const byPort = new Map<number, string>();
    const onMessage = (m: Msg) => {
      if (m.op === "peer") {
        if (m.open) byPort.set(m.port, m.key);
        else byPort.delete(m.port);
      } else if (m.op === "log") {
        (log as unknown as Record<string, (s: string) => void>)[m.level]?.(m.msg);
      }
    };
    const { id, reply } = host.open({ counters, onMessage, onDone }, {
      op: "listen",
      profile: cfg.profile,
      key: cfg.privateKey ? encodeBase64(cfg.privateKey) : "",
      hostname,
      port,
      quicHost: quicAddr.hostname,
      quicPort: quicAddr.port,
    });
    const m = await reply;
    if (m.error) throw new Error(m.error);
    return new RemoteServerTunnel(host, id, { transport: "udp", hostname, port: m.port }, done, byPort);
  }

  /** Number of ready peers with a shim socket. */
  get readyPeers(): number {
    return this.#byPort.size;
  }

  /** The remote peer behind a QUIC connection's loopback address, if any. */
  peerForQuicPort(port: number): string | undefined {
    return this.#byPort.get(port);
  }

  /** Closes a peer's shim and forgets its envelope state (its QUIC connection ended). */
  closePeerByQuicPort(port: number): void {
    this.#byPort.delete(port);
    this.#host.send({ op: "closePeer", id: this.#id, port });
  }

  /** Closes the socket and every peer shim. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.send({ op: "close", id: this.#id });
  }
}
