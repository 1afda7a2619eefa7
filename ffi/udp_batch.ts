/**
 * Batched UDP sockets through FFI (Linux): `recvmmsg(2)` and `sendmmsg(2)` on nonblocking
 * sockets over preallocated vectors (`mmsg_slots.ts`), so there is no per-datagram allocation.
 * Readiness comes from the one shared {@linkcode ./poller.ts} poller (level-triggered POLLIN);
 * each wake-up drains the socket in batches of up to `batch` datagrams.
 *
 * Sending is synchronous: {@linkcode UdpBatchSocket.reserve} hands out the next send slot,
 * {@linkcode UdpBatchSocket.commit} queues it, {@linkcode UdpBatchSocket.flush} pushes the queue
 * with one `sendmmsg` (it also runs when the queue is full). A datagram the kernel refuses
 * (EAGAIN with a full send buffer, ECONNREFUSED…) is dropped, as UDP may do; it is counted in
 * {@linkcode UdpBatchSocket.sendDrops}. A {@linkcode UdpBatchSocket.connect}ed socket sends
 * without an address, which spares the kernel a route lookup per datagram.
 *
 * Addresses are raw `sockaddr_in` (16 bytes) / `sockaddr_in6` (28 bytes) byte arrays
 * (`sockaddr.ts`).
 *
 * @example Echo
 * ```ts ignore
 * const s = UdpBatchSocket.bind("127.0.0.1", 0);
 * s.start((data, from) => { const b = s.reserve(); b.set(data); s.commit(data.length, from); }, () => s.flush());
 * ```
 * @module
 */
import { C, errno, libc } from "./libc.ts";
import { check } from "./os_error.ts";
import { getPoller, type Registration } from "./poller.ts";
import {
  CMSG_INT_SPACE,
  EAGAIN,
  EINTR,
  EINVAL,
  EIO,
  GRO_SLOT,
  mmsg,
  MMSGHDR,
  setBufferSizes,
  setIntOption,
  SOCKADDR_MAX,
  SOL_UDP,
  UDP_GRO,
} from "./mmsg.ts";
import { GsoVector, MsgSlots } from "./mmsg_slots.ts";
import { encodeSockaddr } from "./sockaddr.ts";

/** Options of {@linkcode UdpBatchSocket.bind}. */
export interface UdpBatchOptions {
  /** Receive slots: datagrams (or GRO buffers) per recvmmsg call (default 16). */
  batch?: number;
  /** Send slots: datagrams queued before a sendmmsg is forced (default 64). */
  txBatch?: number;
  /** Largest datagram received or sent, bytes (default 2048; longer ones are truncated on receive). */
  slotSize?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default 4 MiB; forced past rmem_max when privileged). */
  bufferBytes?: number;
  /** recvmmsg calls per poller wake-up before yielding (default 1). */
  maxBatchesPerWake?: number;
  /**
   * Segmentation offload for a peer on loopback that sends and receives GSO batches (quinn):
   * receive with UDP_GRO (65 KiB slots, split on the kernel's segment size) and send runs of
   * equal-sized datagrams to one address as one UDP_SEGMENT message. Default false.
   */
  offload?: boolean;
}

/** Process-wide (per thread) counters of all batch sockets, for profiling. */
export const udpBatchStats = {
  wakes: 0,
  recvCalls: 0,
  received: 0,
  sendCalls: 0,
  sent: 0,
  sendDrops: 0,
  lastErrno: 0,
  busyMs: 0,
};

/** This thread's started sockets by local port (to find a same-thread destination). */
const started = new Map<number, UdpBatchSocket>();
/** Sockets to drain after the current poller callback. */
const chain: UdpBatchSocket[] = [];

/** Drains the chained sockets (bounded, so one busy pair cannot starve the poller). */
function runChain(): void {
  for (let i = 0; i < 64 && chain.length > 0; i++) UdpBatchSocket.drainChained(chain.shift()!);
  for (const s of chain.splice(0)) UdpBatchSocket.drainChained(s);
}

/** Called per received datagram; `data` and `from` are views valid only during the call. */
export type OnDatagram = (data: Uint8Array, from: Uint8Array) => void;

/** A nonblocking UDP socket with batched receive and send. */
export class UdpBatchSocket {
  /** The socket's file descriptor (nonblocking). */
  readonly fd: number;
  /** Address family of the bound address. */
  readonly family: 4 | 6;
  /** The bound local port. */
  readonly port: number;
  /** Datagrams dropped by sendmmsg (EAGAIN, refused…). */
  sendDrops = 0;
  /** Datagrams received. */
  received = 0;
  /** Datagrams sent. */
  sent = 0;
  /** errno of the last refused datagram (0 if none). */
  lastSendError = 0;
  readonly #batch: number;
  readonly #maxBatches: number;
  readonly #rx: MsgSlots;
  readonly #tx: MsgSlots;
  readonly #txLens: Uint32Array;
  #txCount = 0;
  /** Set when offload is on (and not found unsupported). */
  #gso: GsoVector | null;
  #peer: Uint8Array | null = null;
  #reg: Registration | null = null;
  #closed = false;
  #onDatagram: OnDatagram = () => {};
  #onBatchEnd: () => void = () => {};
  /** Waiting in {@linkcode chain}. */
  #chained = false;
  /** Port of the last destination and the started socket of this thread bound to it, if any. */
  #lastDestPort = -1;
  #lastDest: UdpBatchSocket | null = null;

  private constructor(fd: number, family: 4 | 6, port: number, o: Required<UdpBatchOptions>) {
    this.fd = fd;
    this.family = family;
    this.port = port;
    this.#batch = o.batch;
    this.#maxBatches = o.maxBatchesPerWake;
    this.#rx = o.offload
      ? new MsgSlots(o.batch, GRO_SLOT, CMSG_INT_SPACE)
      : new MsgSlots(o.batch, o.slotSize);
    this.#tx = new MsgSlots(o.txBatch, o.slotSize);
    this.#txLens = new Uint32Array(o.txBatch);
    this.#gso = o.offload ? new GsoVector(o.txBatch) : null;
  }

  /**
   * Opens a nonblocking UDP socket bound to `hostname` (an IP literal; `::` is dual-stack) and `port`
   * (0 = ephemeral).
   * @throws {OSError} If socket/bind fails (EADDRINUSE…)
   * @throws {SyntaxError} If `hostname` is not an IP literal
   */
  static bind(hostname: string, port: number, options: UdpBatchOptions = {}): UdpBatchSocket {
    const o: Required<UdpBatchOptions> = {
      batch: options.batch ?? 16,
      txBatch: options.txBatch ?? 64,
      slotSize: options.slotSize ?? 2048,
      bufferBytes: options.bufferBytes ?? 4 << 20,
      maxBatchesPerWake: options.maxBatchesPerWake ?? 1,
      offload: options.offload ?? false,
    };
    const sa = encodeSockaddr(hostname, port);
    const family = sa[0] === C.AF_INET ? 4 : 6;
    const lc = libc();
    const fd = check(
      "socket(SOCK_DGRAM)",
      lc.socket(family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    );
    try {
      if (family === 6) setIntOption(fd, C.IPPROTO_IPV6, 26, /* IPV6_V6ONLY */ 0);
      setBufferSizes(fd, o.bufferBytes);
      check("bind", lc.bind(fd, sa, sa.length));
      if (o.offload && !setIntOption(fd, SOL_UDP, UDP_GRO, 1)) o.offload = false;
      const local = new Uint8Array(SOCKADDR_MAX);
      const len = new Uint32Array([SOCKADDR_MAX]);
      check("getsockname", lc.getsockname(fd, local, new Uint8Array(len.buffer)));
      return new UdpBatchSocket(fd, family, (local[2] << 8) | local[3], o);
    } catch (e) {
      lc.close(fd);
      throw e;
    }
  }

  /**
   * Connects the socket to `peer` (sockaddr bytes of this family): from then on only its
   * datagrams are received, and {@linkcode commit}/{@linkcode send} with `to` null send to it
   * without an address. ICMP errors (ECONNREFUSED) then surface as dropped sends.
   * @throws {OSError} If connect fails (EAFNOSUPPORT…)
   */
  connect(peer: Uint8Array): void {
    check("connect", libc().connect(this.fd, peer, peer.length));
    this.#peer = peer.slice();
  }

  /**
   * Starts delivering datagrams from the shared poller: `onDatagram` per datagram, then
   * `onBatchEnd` once per drained batch (flush your sends there).
   */
  start(onDatagram: OnDatagram, onBatchEnd: () => void = () => {}): void {
    if (this.#reg || this.#closed) return;
    this.#onDatagram = onDatagram;
    this.#onBatchEnd = onBatchEnd;
    started.set(this.port, this);
    this.#reg = getPoller().register(this.fd, C.POLLIN, () => {
      this.#drain();
      runChain();
    });
  }

  /** Stops delivery (the socket stays open for sending). */
  stop(): void {
    this.#reg?.close();
    this.#reg = null;
    if (started.get(this.port) === this) started.delete(this.port);
  }

  /**
   * Queues `s` to be drained right after the current poller callback: it is one of this thread's
   * own sockets and was just sent to, so it has data now, and waiting for the next poll round
   * trip would only add latency.
   */
  static #chainIn(s: UdpBatchSocket): void {
    if (s.#chained || s.#closed || !s.#reg) return;
    s.#chained = true;
    chain.push(s);
  }

  /** Drains a chained socket (see {@linkcode runChain}). */
  static drainChained(s: UdpBatchSocket): void {
    s.#chained = false;
    if (!s.#closed && s.#reg) s.#drain();
  }

  /** Receives what is queued now (up to the per-wake limit); returns the datagram count. */
  #drain(): number {
    const t0 = performance.now();
    udpBatchStats.wakes++;
    try {
      return this.#drainInner();
    } finally {
      udpBatchStats.busyMs += performance.now() - t0;
    }
  }

  #drainInner(): number {
    const rx = this.#rx;
    const recv = mmsg().recvmmsg;
    const onDatagram = this.#onDatagram;
    let total = 0;
    for (let b = 0; b < this.#maxBatches && !this.#closed; b++) {
      rx.prepareRecv(this.#batch);
      const n = recv(this.fd, rx.hdrs, this.#batch, C.MSG_DONTWAIT, null);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const len = rx.received(i);
        const seg = rx.ctrlSize ? rx.groSegment(i) : 0;
        const data = rx.data[i];
        try {
          if (seg > 0 && seg < len) {
            for (let off = 0; off < len; off += seg) {
              onDatagram(data.subarray(off, Math.min(len, off + seg)), rx.names[i]);
            }
          } else {
            onDatagram(data.subarray(0, len), rx.names[i]);
          }
        } catch (e) {
          console.error(`udp_batch: datagram handler threw: ${e}`);
        }
      }
      total += n;
      this.received += n;
      udpBatchStats.recvCalls++;
      udpBatchStats.received += n;
      this.#onBatchEnd();
      if (n < this.#batch) break;
    }
    return total;
  }

  /** The next send slot (`slotSize` bytes); write the datagram into it, then {@linkcode commit}. */
  reserve(): Uint8Array {
    if (this.#txCount === this.#tx.count) this.flush();
    return this.#tx.data[this.#txCount];
  }

  /**
   * Queues the reserved slot's first `length` bytes for `to` (a sockaddr of this family), or for
   * the connected peer when `to` is null.
   * @throws {RangeError} If `length` exceeds the slot size
   * @throws {Error} If `to` is null and the socket is not connected
   */
  commit(length: number, to: Uint8Array | null): void {
    const i = this.#txCount;
    if (length > this.#tx.slotSize) {
      throw new RangeError(`datagram of ${length} bytes exceeds slot ${this.#tx.slotSize}`);
    }
    const dest = to ?? this.#peer;
    if (!dest) throw new Error("udp_batch: no destination (socket not connected)");
    this.#tx.address(i, length, to);
    this.#txLens[i] = length;
    this.#txCount++;
    const port = (dest[2] << 8) | dest[3];
    if (port !== this.#lastDestPort) {
      this.#lastDestPort = port;
      this.#lastDest = started.get(port) ?? null;
    }
    if (this.#txCount === this.#tx.count) this.flush();
  }

  /** Copies `data` into a slot and queues it (see {@linkcode commit}). */
  send(data: Uint8Array, to: Uint8Array | null): void {
    this.reserve().set(data);
    this.commit(data.length, to);
  }

  /** Sends every queued datagram (one sendmmsg per run; refused ones are dropped). */
  flush(): void {
    const count = this.#txCount;
    this.#txCount = 0;
    if (this.#closed || count === 0) return;
    if (this.#gso) {
      const entries = this.#gso.plan(this.#tx, this.#txLens, count);
      return this.#sendHdrs(this.#gso.hdrs, entries, this.#gso.segments);
    }
    this.#sendHdrs(this.#tx.hdrs, count, null);
  }

  /** sendmmsg over `count` entries of `hdrs`; `sizes[i]` datagrams per entry (1 if null). */
  #sendHdrs(hdrs: Uint8Array, count: number, sizes: Uint32Array | null): void {
    const send = mmsg().sendmmsg;
    let off = 0;
    while (off < count) {
      const n = send(this.fd, off === 0 ? hdrs : hdrs.subarray(off * MMSGHDR), count - off, 0);
      udpBatchStats.sendCalls++;
      if (n > 0) {
        let d = n;
        if (sizes) {
          d = 0;
          for (let i = off; i < off + n; i++) d += sizes[i];
        }
        this.sent += d;
        udpBatchStats.sent += d;
        off += n;
        const dest = this.#lastDest;
        if (dest && dest !== this && started.get(this.#lastDestPort) === dest) UdpBatchSocket.#chainIn(dest);
        continue;
      }
      const e = errno();
      if (e === EINTR) continue;
      // Entry `off` was refused: drop it (UDP) and go on with the rest.
      if (e !== EAGAIN) this.lastSendError = e;
      const dropped = sizes ? sizes[off] : 1;
      if (dropped > 1 && (e === EIO || e === EINVAL)) this.#gso = null; // no GSO on this path
      this.sendDrops += dropped;
      udpBatchStats.sendDrops += dropped;
      udpBatchStats.lastErrno = e;
      off++;
    }
  }

  /** Stops delivery and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    libc().close(this.fd);
  }

  /** True once {@linkcode close} ran. */
  get closed(): boolean {
    return this.#closed;
  }
}
