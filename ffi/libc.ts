/**
 * libc bindings through Deno FFI (Linux). Loaded lazily on first use, so importing this module on
 * another OS or without `--allow-ffi` costs nothing until a call is made.
 *
 * Only `poll_nb` is nonblocking (it runs on Deno's blocking pool, which has 32 threads shared with
 * file I/O): the one shared {@linkcode ../ffi/poller.ts} poller owns it. Everything else is called
 * synchronously on fds that are O_NONBLOCK, and `errno()` is read right after the call.
 *
 * @module
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_nb: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  getuid: { parameters: [], result: "u32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

/** The loaded symbols. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/**
 * Returns the libc symbols, loading `libc.so.6` on first use.
 * @throws {Error} If not on Linux or FFI is not allowed.
 */
export function libc(): Libc {
  if (!lib) {
    if (Deno.build.os !== "linux") throw new Error(`libc bindings are for Linux, not ${Deno.build.os}`);
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  }
  return lib.symbols;
}

/** Returns the calling thread's errno (valid right after a synchronous call). */
export function errno(): number {
  const p = libc().__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** Returns libc's text for an errno value. */
export function strerror(n: number): string {
  const p = libc().strerror(n);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${n}`;
}

/** Socket and protocol constants (Linux x86_64/aarch64 values). */
export const C = {
  AF_INET: 2,
  AF_INET6: 10,
  AF_PACKET: 17,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0,
  IPPROTO_ICMP: 1,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  IPPROTO_ICMPV6: 58,
  IPPROTO_RAW: 255,
  SOL_SOCKET: 1,
  SO_ERROR: 4,
  SO_RCVBUF: 8,
  SO_TIMESTAMPNS: 35,
  SO_ATTACH_FILTER: 26,
  SO_DETACH_FILTER: 27,
  SO_LOCK_FILTER: 44,
  IP_TTL: 2,
  IP_HDRINCL: 3,
  IP_RECVERR: 11,
  IP_MTU_DISCOVER: 10,
  IP_PMTUDISC_DO: 2,
  IPV6_UNICAST_HOPS: 16,
  IPV6_RECVERR: 25,
  IPV6_HDRINCL: 36,
  MSG_DONTWAIT: 0x40,
  MSG_ERRQUEUE: 0x2000,
  POLLIN: 0x001,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  POLLNVAL: 0x020,
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  ETH_P_ALL: 0x0003,
  PACKET_OUTGOING: 4,
} as const;

/** Returns `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes) for 4- or 16-byte `addr`. */
export function sockaddr(addr: Uint8Array, port: number): Uint8Array {
  if (addr.length === 4) {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint16(0, C.AF_INET, true);
    b[2] = port >> 8;
    b[3] = port & 0xff;
    b.set(addr, 4);
    return b;
  }
  const b = new Uint8Array(28);
  new DataView(b.buffer).setUint16(0, C.AF_INET6, true);
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set(addr, 8);
  return b;
}

/** Parses a `sockaddr_in`/`sockaddr_in6` into address bytes and port; null for other families. */
export function parseSockaddr(b: Uint8Array): { addr: Uint8Array; port: number } | null {
  const fam = b[0] | (b[1] << 8);
  const port = (b[2] << 8) | b[3];
  if (fam === C.AF_INET) return { addr: b.slice(4, 8), port };
  if (fam === C.AF_INET6) return { addr: b.slice(8, 24), port };
  return null;
}

/** Returns a 4-byte little-endian int option value. */
export function intOpt(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

const tsBuf = new Uint8Array(16);
const tsView = new DataView(tsBuf.buffer);
/** Seconds subtracted from every timestamp so nanoseconds stay exact in a double. */
const EPOCH_BASE_S = BigInt(Math.floor(Date.now() / 1000) - 86400);

/**
 * Returns CLOCK_REALTIME in integer nanoseconds (since a base near process start): the clock of
 * kernel packet timestamps (SO_TIMESTAMPNS), so send and receive times of a probe are comparable.
 */
export function realtimeNs(): number {
  // elsewhere (macOS, Windows) captures are stamped in user space with this same clock
  if (Deno.build.os !== "linux") return Math.round(performance.now() * 1e6);
  libc().clock_gettime(0, tsBuf);
  return timespecNs(tsView, 0);
}

/** Reads a `struct timespec` at `off` of `view` as nanoseconds (on the same base as realtimeNs). */
export function timespecNs(view: DataView, off: number): number {
  return Number(view.getBigInt64(off, true) - EPOCH_BASE_S) * 1e9 + Number(view.getBigInt64(off + 8, true));
}

/** Converts an epoch `sec`/`nsec` pair to ns on the `realtimeNs` base (pcap timevals, etc.). */
export function epochToRealtimeNs(sec: bigint, nsec: bigint): number {
  return Number(sec - EPOCH_BASE_S) * 1e9 + Number(nsec);
}
