/**
 * Batched UDP sockets through FFI (Linux): `recvmmsg(2)` and `sendmmsg(2)` on nonblocking
 * sockets, with every msghdr, iovec, address and payload buffer allocated once. Readiness comes
 * from the one shared {@linkcode ../ffi/poller.ts} poller (level-triggered POLLIN); each wake-up
 * drains the socket in batches of up to `batch` datagrams, so there is no pending FFI call per
 * socket and no per-datagram allocation.
 *
 * Sending is synchronous: {@linkcode UdpBatchSocket.reserve} hands out the next send slot,
 * {@linkcode UdpBatchSocket.commit} queues it, {@linkcode UdpBatchSocket.flush} pushes the queue
 * with one `sendmmsg` (it also runs when the queue is full). A datagram the kernel refuses
 * (EAGAIN with a full send buffer, ECONNREFUSED…) is dropped, as UDP may do; it is counted in
 * {@linkcode UdpBatchSocket.sendDrops}.
 *
 * Addresses are raw `sockaddr_in` (16 bytes) / `sockaddr_in6` (28 bytes) byte arrays; see
 * {@linkcode encodeSockaddr} and {@linkcode decodeSockaddr}.
 *
 * @example Echo
 * ```ts ignore
 * const s = UdpBatchSocket.bind("127.0.0.1", 0);
 * s.start((data, from) => { const b = s.reserve(); b.set(data); s.commit(data.length, from); }, () => s.flush());
 * ```
 * @module
 */
import ipaddr from "ipaddr.js";
import { C, errno, libc } from "./libc.ts";
import { check, lastError } from "./os_error.ts";
import { getPoller, type Registration } from "./poller.ts";

const MMSG_SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
} as const;

let mmsgLib: Deno.DynamicLibrary<typeof MMSG_SYMBOLS> | undefined;
function mmsg(): Deno.DynamicLibrary<typeof MMSG_SYMBOLS>["symbols"] {
  if (!mmsgLib) {
    if (Deno.build.os !== "linux") throw new Error(`recvmmsg/sendmmsg are Linux-only, not ${Deno.build.os}`);
    mmsgLib = Deno.dlopen("libc.so.6", MMSG_SYMBOLS);
  }
  return mmsgLib.symbols;
}

/** `sizeof(struct mmsghdr)` on 64-bit Linux: a 56-byte msghdr plus `msg_len`, padded. */
const MMSGHDR = 64;
const SOCKADDR_MAX = 28;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUF = 7;
const EAGAIN = 11;
const EINTR = 4;

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

const SOL_UDP = 17;
const UDP_SEGMENT = 103;
const UDP_GRO = 104;
/** CMSG_SPACE(sizeof(int)) on 64-bit Linux; UDP_SEGMENT's u16 fits too. */
const CMSG_INT_SPACE = 24;
const GSO_MAX_SEGMENTS = 64;
const GSO_MAX_BYTES = 65000;
const GRO_SLOT = 65536;

/**
 * Encodes an IP literal and port as `sockaddr_in`/`sockaddr_in6` bytes.
 * @throws {SyntaxError} If `hostname` is not an IPv4 or IPv6 literal
 */
export function encodeSockaddr(hostname: string, port: number): Uint8Array {
  const v4 = parseIPv4(hostname);
  if (v4) {
    const b = new Uint8Array(16);
    b[0] = C.AF_INET;
    b[2] = port >> 8;
    b[3] = port & 0xff;
    b.set(v4, 4);
    return b;
  }
  const v6 = parseIPv6(hostname);
  if (!v6) throw new SyntaxError(`not an IP literal: "${hostname}"`);
  const b = new Uint8Array(28);
  b[0] = C.AF_INET6;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set(v6, 8);
  return b;
}

/** Decodes `sockaddr` bytes into a hostname as Deno prints it (`::ffff:a.b.c.d` for mapped) and port. */
export function decodeSockaddr(sa: Uint8Array): { hostname: string; port: number } {
  const port = (sa[2] << 8) | sa[3];
  if (sa[0] === C.AF_INET) return { hostname: `${sa[4]}.${sa[5]}.${sa[6]}.${sa[7]}`, port };
  const a = sa.subarray(8, 24);
  let mapped = a[10] === 0xff && a[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = a[i] === 0;
  if (mapped) return { hostname: `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`, port };
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  // RFC 5952: compress the longest run (≥ 2) of zero words.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  const hostname = best < 0
    ? hex(words)
    : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
  return { hostname, port };
}

/** True if two sockaddrs hold the same family, address and port. */
export function sameSockaddr(a: Uint8Array, b: Uint8Array): boolean {
  if (a[0] !== b[0] || a[2] !== b[2] || a[3] !== b[3]) return false;
  const [from, to] = a[0] === C.AF_INET ? [4, 8] : [8, 24];
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function parseIPv4(s: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return null;
    b[i] = v;
  }
  return b;
}

function parseIPv6(s: string): Uint8Array | null {
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (!s.includes(":") || !ipaddr.IPv6.isValid(s)) return null;
  return new Uint8Array(ipaddr.IPv6.parse(s).toByteArray());
}

/** A ring of preallocated mmsghdr slots: payload, address and iovec per slot. */
class Slots {
  readonly hdrs: Uint8Array;
  readonly hv: DataView;
  readonly data: Uint8Array[];
  readonly names: Uint8Array[];
  /** Per-slot control buffers (`ctrlSize` bytes each) when `ctrlSize > 0`. */
  readonly ctrl: Uint8Array;
  readonly ctrlView: DataView;
  readonly ctrlSize: number;
  /** Address of slot 0's iovec; slot i's is 16·i further. */
  readonly iovBase: bigint;
  readonly nameBase: bigint;
  readonly ctrlBase: bigint;
  readonly #keep: Uint8Array[] = [];

  constructor(count: number, slotSize: number, ctrlSize = 0) {
    this.hdrs = new Uint8Array(count * MMSGHDR);
    this.hv = new DataView(this.hdrs.buffer);
    const arena = new Uint8Array(count * slotSize);
    const names = new Uint8Array(count * SOCKADDR_MAX);
    const iovs = new Uint8Array(count * 16);
    const iv = new DataView(iovs.buffer);
    this.ctrlSize = ctrlSize;
    this.ctrl = new Uint8Array(Math.max(8, count * ctrlSize));
    this.ctrlView = new DataView(this.ctrl.buffer);
    this.#keep.push(arena, names, iovs);
    const P = Deno.UnsafePointer;
    const base = (b: Uint8Array) => BigInt(P.value(P.of(b)));
    const arenaP = base(arena), namesP = base(names), iovsP = base(iovs);
    this.iovBase = iovsP;
    this.nameBase = namesP;
    this.ctrlBase = base(this.ctrl);
    this.data = [];
    this.names = [];
    for (let i = 0; i < count; i++) {
      iv.setBigUint64(i * 16, arenaP + BigInt(i * slotSize), true);
      iv.setBigUint64(i * 16 + 8, BigInt(slotSize), true);
      const h = i * MMSGHDR;
      this.hv.setBigUint64(h, namesP + BigInt(i * SOCKADDR_MAX), true);
      this.hv.setUint32(h + 8, SOCKADDR_MAX, true);
      this.hv.setBigUint64(h + 16, iovsP + BigInt(i * 16), true);
      this.hv.setBigUint64(h + 24, 1n, true);
      if (ctrlSize > 0) this.hv.setBigUint64(h + 32, this.ctrlBase + BigInt(i * ctrlSize), true);
      this.data.push(arena.subarray(i * slotSize, (i + 1) * slotSize));
      this.names.push(names.subarray(i * SOCKADDR_MAX, (i + 1) * SOCKADDR_MAX));
    }
    this.iovView = iv;
  }
  readonly iovView: DataView;
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
  readonly fd: number;
  readonly family: 4 | 6;
  /** The bound local port. */
  readonly port: number;
  /** Datagrams dropped by sendmmsg (EAGAIN, refused…). */
  sendDrops = 0;
  /** Datagrams received. */
  received = 0;
  /** Datagrams sent. */
  sent = 0;
  readonly #batch: number;
  readonly #txBatch: number;
  readonly #slotSize: number;
  readonly #maxBatches: number;
  readonly #rx: Slots;
  readonly #tx: Slots;
  readonly #txLens: Uint32Array;
  #txCount = 0;
  #offload: boolean;
  readonly #rxSlotSize: number;
  #gsoHdrs = new Uint8Array(0);
  #gsoCtrl = new Uint8Array(0);
  #gsoCount = new Uint32Array(0);
  #reg: Registration | null = null;
  #closed = false;

  private constructor(fd: number, family: 4 | 6, port: number, o: Required<UdpBatchOptions>) {
    this.fd = fd;
    this.family = family;
    this.port = port;
    this.#batch = o.batch;
    this.#txBatch = o.txBatch;
    this.#slotSize = o.slotSize;
    this.#maxBatches = o.maxBatchesPerWake;
    this.#offload = o.offload;
    this.#rx = o.offload ? new Slots(o.batch, GRO_SLOT, CMSG_INT_SPACE) : new Slots(o.batch, o.slotSize);
    this.#rxSlotSize = o.offload ? GRO_SLOT : o.slotSize;
    this.#tx = new Slots(o.txBatch, o.slotSize);
    this.#txLens = new Uint32Array(o.txBatch);
    if (o.offload) {
      this.#gsoHdrs = new Uint8Array(o.txBatch * MMSGHDR);
      this.#gsoCtrl = new Uint8Array(o.txBatch * CMSG_INT_SPACE);
      this.#gsoCount = new Uint32Array(o.txBatch);
    }
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
      if (family === 6) setInt(fd, C.IPPROTO_IPV6, 26, /* IPV6_V6ONLY */ 0);
      for (const [force, plain] of [[SO_RCVBUFFORCE, C.SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]]) {
        if (!setInt(fd, C.SOL_SOCKET, force, o.bufferBytes)) setInt(fd, C.SOL_SOCKET, plain, o.bufferBytes);
      }
      check("bind", lc.bind(fd, sa, sa.length));
      if (o.offload && !setInt(fd, SOL_UDP, UDP_GRO, 1)) o.offload = false;
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
   * Starts delivering datagrams from the shared poller: `onDatagram` per datagram, then
   * `onBatchEnd` once per drained batch (flush your sends there).
   */
  start(onDatagram: OnDatagram, onBatchEnd: () => void = () => {}): void {
    if (this.#reg || this.#closed) return;
    this.#onDatagram = onDatagram;
    this.#onBatchEnd = onBatchEnd;
    started.set(this.port, this);
    this.#reg = getPoller().register(this.fd, C.POLLIN, () => {
      this.#drain(onDatagram, onBatchEnd);
      runChain();
    });
  }

  #onDatagram: OnDatagram = () => {};
  #onBatchEnd: () => void = () => {};
  /** Waiting in {@linkcode chain}. */
  #chained = false;
  /** Port of the last destination and the started socket of this thread bound to it, if any. */
  #lastDestPort = -1;
  #lastDest: UdpBatchSocket | null = null;

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
    if (!s.#closed) s.#drain(s.#onDatagram, s.#onBatchEnd);
  }

  /** Receives what is queued now (up to the per-wake limit); returns the datagram count. */
  #drain(onDatagram: OnDatagram, onBatchEnd: () => void): number {
    const t0 = performance.now();
    udpBatchStats.wakes++;
    try {
      return this.#drainInner(onDatagram, onBatchEnd);
    } finally {
      udpBatchStats.busyMs += performance.now() - t0;
    }
  }

  #drainInner(onDatagram: OnDatagram, onBatchEnd: () => void): number {
    const rx = this.#rx;
    const recv = mmsg().recvmmsg;
    let total = 0;
    for (let b = 0; b < this.#maxBatches && !this.#closed; b++) {
      for (let i = 0; i < this.#batch; i++) {
        rx.hv.setUint32(i * MMSGHDR + 8, SOCKADDR_MAX, true);
        if (rx.ctrlSize) rx.hv.setBigUint64(i * MMSGHDR + 40, BigInt(rx.ctrlSize), true);
      }
      const n = recv(this.fd, rx.hdrs, this.#batch, C.MSG_DONTWAIT, null);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        const len = Math.min(rx.hv.getUint32(i * MMSGHDR + 56, true), this.#rxSlotSize);
        const seg = rx.ctrlSize ? groSegment(rx, i) : 0;
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
      onBatchEnd();
      if (n < this.#batch) break;
    }
    return total;
  }

  /** The next send slot (`slotSize` bytes); write the datagram into it, then {@linkcode commit}. */
  reserve(): Uint8Array {
    if (this.#txCount === this.#txBatch) this.flush();
    return this.#tx.data[this.#txCount];
  }

  /** Queues the reserved slot's first `length` bytes for `to` (a sockaddr of this family). */
  commit(length: number, to: Uint8Array): void {
    const i = this.#txCount;
    if (length > this.#slotSize) {
      throw new RangeError(`datagram of ${length} bytes exceeds slot ${this.#slotSize}`);
    }
    this.#tx.names[i].set(to);
    this.#tx.hv.setUint32(i * MMSGHDR + 8, to.length, true);
    this.#tx.iovView.setBigUint64(i * 16 + 8, BigInt(length), true);
    this.#txLens[i] = length;
    this.#txCount++;
    const port = (to[2] << 8) | to[3];
    if (port !== this.#lastDestPort) {
      this.#lastDestPort = port;
      this.#lastDest = started.get(port) ?? null;
    }
    if (this.#txCount === this.#txBatch) this.flush();
  }

  /** Copies `data` into a slot and queues it. */
  send(data: Uint8Array, to: Uint8Array): void {
    this.reserve().set(data);
    this.commit(data.length, to);
  }

  /** Sends every queued datagram (one sendmmsg per run; refused ones are dropped). */
  flush(): void {
    const count = this.#txCount;
    this.#txCount = 0;
    if (this.#closed || count === 0) return;
    if (this.#offload) return this.#flushGso(count);
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
      if (sizes && sizes[off] > 1 && (e === 5 || e === 22)) this.#offload = false; // EIO/EINVAL: no GSO here
      this.sendDrops += sizes ? sizes[off] : 1;
      udpBatchStats.sendDrops += sizes ? sizes[off] : 1;
      udpBatchStats.lastErrno = e;
      off++;
    }
  }

  /** Groups runs of equal-sized datagrams to the same address into UDP_SEGMENT messages. */
  #flushGso(count: number): void {
    const tx = this.#tx;
    const hv = new DataView(this.#gsoHdrs.buffer);
    const cv = new DataView(this.#gsoCtrl.buffer);
    const ctrlBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#gsoCtrl)));
    const lens = this.#txLens;
    let entries = 0;
    for (let i = 0; i < count;) {
      const seg = lens[i];
      let k = 1;
      while (
        i + k < count && k < GSO_MAX_SEGMENTS && (k + 1) * seg <= GSO_MAX_BYTES && lens[i + k - 1] === seg &&
        lens[i + k] <= seg && sameSockaddr(tx.names[i], tx.names[i + k])
      ) k++;
      // A shorter datagram may only end a run.
      while (k > 1 && lens[i + k - 2] !== seg) k--;
      const h = entries * MMSGHDR;
      hv.setBigUint64(h, tx.nameBase + BigInt(i * SOCKADDR_MAX), true);
      hv.setUint32(h + 8, tx.hv.getUint32(i * MMSGHDR + 8, true), true);
      hv.setBigUint64(h + 16, tx.iovBase + BigInt(i * 16), true);
      hv.setBigUint64(h + 24, BigInt(k), true);
      if (k > 1) {
        const c = entries * CMSG_INT_SPACE;
        cv.setBigUint64(c, 18n, true); // CMSG_LEN(sizeof(uint16_t))
        cv.setInt32(c + 8, SOL_UDP, true);
        cv.setInt32(c + 12, UDP_SEGMENT, true);
        cv.setUint16(c + 16, seg, true);
        hv.setBigUint64(h + 32, ctrlBase + BigInt(c), true);
        hv.setBigUint64(h + 40, BigInt(CMSG_INT_SPACE), true);
      } else {
        hv.setBigUint64(h + 32, 0n, true);
        hv.setBigUint64(h + 40, 0n, true);
      }
      hv.setInt32(h + 48, 0, true);
      this.#gsoCount[entries] = k;
      entries++;
      i += k;
    }
    this.#sendHdrs(this.#gsoHdrs, entries, this.#gsoCount);
  }

  /** errno of the last refused datagram (0 if none). */
  lastSendError = 0;

  /** Stops delivery and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (started.get(this.port) === this) started.delete(this.port);
    this.#reg?.close();
    libc().close(this.fd);
  }

  /** True once {@linkcode close} ran. */
  get closed(): boolean {
    return this.#closed;
  }
}

/** The UDP_GRO segment size in slot `i`'s control data, 0 if none (one datagram). */
function groSegment(rx: Slots, i: number): number {
  const total = Number(rx.hv.getBigUint64(i * MMSGHDR + 40, true));
  const base = i * rx.ctrlSize;
  for (let off = 0; off + 16 <= total;) {
    const len = Number(rx.ctrlView.getBigUint64(base + off, true));
    if (len < 16 || off + len > total) return 0;
    if (
      rx.ctrlView.getInt32(base + off + 8, true) === SOL_UDP &&
      rx.ctrlView.getInt32(base + off + 12, true) === UDP_GRO
    ) {
      return rx.ctrlView.getInt32(base + off + 16, true);
    }
    off += (len + 7) & ~7;
  }
  return 0;
}

function setInt(fd: number, level: number, name: number, value: number): boolean {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return libc().setsockopt(fd, level, name, b, 4) === 0;
}

/** Throws the current errno as an OSError (exported for callers that check their own calls). */
export function throwLastError(syscall: string): never {
  throw lastError(syscall);
}

/**
 * Raises SO_RCVBUF (SO_RCVBUFFORCE when privileged) of this process's own UDP socket bound to
 * local `port`, found through `/proc/net/udp{,6}` and `/proc/self/fd`. Used on the loopback QUIC
 * sockets Deno creates with the default buffer (rmem_default, often 208 KiB ≈ 90 datagrams of
 * 1.2 KB), which overflow when a shim delivers a burst. Returns false if no such socket was found.
 */
export function growOwnSocketBuffer(port: number, bytes = 4 << 20): boolean {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const f of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(f);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1].endsWith(`:${hexPort}`)) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return false;
  let done = false;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (!m || !inodes.has(m[1])) continue;
    const fd = Number(e.name);
    if (!setInt(fd, C.SOL_SOCKET, SO_RCVBUFFORCE, bytes)) setInt(fd, C.SOL_SOCKET, C.SO_RCVBUF, bytes);
    done = true;
  }
  return done;
}
