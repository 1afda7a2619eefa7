/**
 * `recvmmsg(2)` / `sendmmsg(2)` bindings (Linux, 64-bit) and the constants the batch sockets need:
 * the `struct mmsghdr` layout, the UDP segmentation-offload options (UDP_SEGMENT / UDP_GRO, Linux
 * 4.18 / 5.0), integer socket options and the helper that grows a socket buffer Deno opened.
 * Loaded lazily, like `libc.ts`.
 *
 * @module
 */
import { C, intOpt, libc } from "./libc.ts";

/** The FFI signatures of `recvmmsg` and `sendmmsg`. */
export const SYMBOLS = {
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
} as const;

/** The loaded symbols. */
export type Mmsg = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/**
 * Returns `recvmmsg`/`sendmmsg`, loading them from `libc.so.6` on first use.
 * @throws {Error} If not on Linux or FFI is not allowed
 */
export function mmsg(): Mmsg {
  if (!lib) {
    if (Deno.build.os !== "linux") throw new Error(`recvmmsg/sendmmsg are Linux-only, not ${Deno.build.os}`);
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  }
  return lib.symbols;
}

/** `sizeof(struct mmsghdr)`: a 56-byte `struct msghdr`, then `msg_len` (u32), padded to 64. */
export const MMSGHDR = 64;
/** Field offsets in a `struct mmsghdr` (x86_64 and aarch64). */
export const H = {
  name: 0,
  namelen: 8,
  iov: 16,
  iovlen: 24,
  control: 32,
  controllen: 40,
  flags: 48,
  /** `msg_len`: bytes received or sent. */
  len: 56,
} as const;
/** `sizeof(struct iovec)`. */
export const IOVEC = 16;
/** Room for the largest sockaddr the sockets use (`sockaddr_in6`). */
export const SOCKADDR_MAX = 28;

/** `IPPROTO_UDP` as a setsockopt/cmsg level. */
export const SOL_UDP = 17;
/** cmsg / setsockopt: segment size of a GSO send. */
export const UDP_SEGMENT = 103;
/** setsockopt: coalesce received datagrams; cmsg: their segment size. */
export const UDP_GRO = 104;
/** `CMSG_SPACE(sizeof(int))` on 64-bit Linux; UDP_SEGMENT's u16 fits too. */
export const CMSG_INT_SPACE = 24;
/** The kernel's limit of segments in one GSO send (UDP_MAX_SEGMENTS). */
export const GSO_MAX_SEGMENTS = 64;
/** Bytes of one GSO send (below the 64 KiB IP limit with headers). */
export const GSO_MAX_BYTES = 65000;
/** A receive slot for one GRO-coalesced buffer. */
export const GRO_SLOT = 65536;

/** SOL_SOCKET option: send buffer size (bytes, capped at wmem_max). */
export const SO_SNDBUF = 7;
/** SOL_SOCKET option: send buffer size past wmem_max (needs CAP_NET_ADMIN). */
export const SO_SNDBUFFORCE = 32;
/** SOL_SOCKET option: receive buffer size past rmem_max (needs CAP_NET_ADMIN). */
export const SO_RCVBUFFORCE = 33;
/** errno: interrupted system call. */
export const EINTR = 4;
/** errno: I/O error (a GSO send the device cannot take). */
export const EIO = 5;
/** errno: would block (send buffer full). */
export const EAGAIN = 11;
/** errno: invalid argument (e.g. UDP_SEGMENT unsupported). */
export const EINVAL = 22;

/** setsockopt with an int value; false if the kernel refused. */
export function setIntOption(fd: number, level: number, name: number, value: number): boolean {
  return libc().setsockopt(fd, level, name, intOpt(value), 4) === 0;
}

/** Sets SO_RCVBUF and SO_SNDBUF to `bytes`, past rmem_max/wmem_max (the *FORCE options) when privileged. */
export function setBufferSizes(fd: number, bytes: number, send = true): void {
  const pairs = send
    ? [[SO_RCVBUFFORCE, C.SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]]
    : [[SO_RCVBUFFORCE, C.SO_RCVBUF]];
  for (const [force, plain] of pairs) {
    if (!setIntOption(fd, C.SOL_SOCKET, force, bytes)) setIntOption(fd, C.SOL_SOCKET, plain, bytes);
  }
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
    setBufferSizes(Number(e.name), bytes, false);
    done = true;
  }
  return done;
}
