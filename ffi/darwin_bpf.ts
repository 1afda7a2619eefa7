/**
 * macOS packet I/O: `/dev/bpfN` capture and the raw-socket send quirks (spec traceroute.md §8).
 *
 * - Capture: open the first free `/dev/bpfN` (N < 256, EBUSY = taken), bind it to the interface
 *   that routes to the target (`BIOCSETIF` with a `struct ifreq`), immediate mode, then read
 *   batches of `struct bpf_hdr` + frame records, each padded to 4 bytes (BPF_ALIGNMENT is
 *   `sizeof(int32_t)` on Darwin even on 64-bit). Loopback frames carry a 4-byte DLT_NULL header,
 *   others Ethernet; {@linkcode ../src/traceroute/packets/frame.ts} strips either.
 * - Send: raw IPv4 with IP_HDRINCL wants `ip_len` and `ip_off` in **host** byte order (BSD quirk);
 *   raw IPv6 cannot carry the header, so it is removed and the hop limit set with IPV6_HOPLIMIT.
 *
 * The layouts are unit-tested on Linux; the device class runs only on macOS.
 *
 * @module
 */

/** Darwin ioctl request numbers (`_IOW/_IOR/_IOWR('B', n, …)`). */
export const BIOC = {
  /** _IOR('B', 102, u_int) */
  GBLEN: 0x40044266,
  /** _IOWR('B', 102, u_int) */
  SBLEN: 0xc0044266,
  /** _IOR('B', 106, u_int) */
  GDLT: 0x4004426a,
  /** _IOW('B', 108, struct ifreq) */
  SETIF: 0x8020426c,
  /** _IOW('B', 112, u_int) */
  IMMEDIATE: 0x80044270,
  /** _IOW('B', 117, u_int) */
  SHDRCMPLT: 0x80044275,
  /** _IOW('B', 119, u_int) */
  SSEESENT: 0x80044277,
} as const;

/** Darwin socket constants that differ from Linux. */
export const DARWIN = {
  AF_INET6: 30,
  O_RDWR: 2,
  EBUSY: 16,
  IPPROTO_IPV6: 41,
  IPV6_HOPLIMIT: 47,
  IPV6_UNICAST_HOPS: 4,
  IP_HDRINCL: 2,
  /** DLT_NULL, DLT_EN10MB */
  DLT_NULL: 0,
  DLT_EN10MB: 1,
} as const;

/** sizeof(struct bpf_hdr): timeval32 (8) + caplen (4) + datalen (4) + hdrlen (2), padded to 20. */
export const BPF_HDR_SIZE = 20;
/** SIZEOF_BPF_HDR: the header bytes the kernel counts in `bh_hdrlen` (18 on Darwin). */
export const SIZEOF_BPF_HDR = 18;
/** BPF_ALIGNMENT on Darwin. */
export const BPF_ALIGNMENT = 4;

/** Rounds `x` up to the BPF record alignment. */
export function bpfWordAlign(x: number): number {
  return (x + BPF_ALIGNMENT - 1) & ~(BPF_ALIGNMENT - 1);
}

/** One record of a BPF read buffer. */
export interface BpfRecord {
  tsSec: number;
  tsUsec: number;
  caplen: number;
  datalen: number;
  frame: Uint8Array;
}

/**
 * Splits a BPF read buffer into records (little-endian host).
 * @throws {RangeError} If a record runs past the end of the buffer.
 */
export function parseBpfBuffer(buf: Uint8Array): BpfRecord[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: BpfRecord[] = [];
  let off = 0;
  while (off + SIZEOF_BPF_HDR <= buf.length) {
    const caplen = v.getUint32(off + 8, true);
    const datalen = v.getUint32(off + 12, true);
    const hdrlen = v.getUint16(off + 16, true);
    const start = off + hdrlen;
    const end = start + caplen;
    if (hdrlen < SIZEOF_BPF_HDR || end > buf.length) {
      throw new RangeError(`Cannot parse BPF record at ${off}: needs ${end} bytes, buffer has ${buf.length}`);
    }
    out.push({
      tsSec: v.getUint32(off, true),
      tsUsec: v.getUint32(off + 4, true),
      caplen,
      datalen,
      frame: buf.subarray(start, end),
    });
    off = bpfWordAlign(end);
  }
  return out;
}

/** Builds one BPF record (tests and fakes): header, frame, padding. */
export function encodeBpfRecord(frame: Uint8Array, tsSec = 0, tsUsec = 0): Uint8Array {
  const out = new Uint8Array(bpfWordAlign(SIZEOF_BPF_HDR + frame.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, tsSec, true);
  v.setUint32(4, tsUsec, true);
  v.setUint32(8, frame.length, true);
  v.setUint32(12, frame.length, true);
  v.setUint16(16, SIZEOF_BPF_HDR, true);
  out.set(frame, SIZEOF_BPF_HDR);
  return out;
}

/** `struct ifreq` (32 bytes) holding an interface name, for BIOCSETIF. */
export function ifreq(name: string): Uint8Array {
  const b = new Uint8Array(32);
  const n = new TextEncoder().encode(name);
  if (n.length > 15) throw new RangeError(`Interface name "${name}" is longer than 15 bytes`);
  b.set(n);
  return b;
}

/**
 * Returns a copy of an IPv4 packet with `ip_len` and `ip_off` in host (little-endian) order, as
 * Darwin's raw IP_HDRINCL sockets require. The header checksum is left for the kernel.
 */
export function darwinRawIPv4(packet: Uint8Array): Uint8Array {
  const out = packet.slice();
  const v = new DataView(out.buffer);
  v.setUint16(2, new DataView(packet.buffer, packet.byteOffset).getUint16(2), true);
  v.setUint16(6, new DataView(packet.buffer, packet.byteOffset).getUint16(6), true);
  return out;
}

/** What a Darwin raw IPv6 socket sends for `packet`: its payload, next header and hop limit. */
export function darwinRawIPv6(
  packet: Uint8Array,
): { payload: Uint8Array; nextHeader: number; hopLimit: number } {
  if (packet.length < 40 || packet[0] >> 4 !== 6) throw new TypeError("Not an IPv6 packet");
  return { payload: packet.subarray(40), nextHeader: packet[6], hopLimit: packet[7] };
}

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read_nb: { name: "read", parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  __error: { parameters: [], result: "pointer" },
} as const;

let darwin: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function lib() {
  if (Deno.build.os !== "darwin") throw new Error("/dev/bpf capture is for macOS");
  return (darwin ??= Deno.dlopen("libSystem.B.dylib", SYMBOLS)).symbols;
}

function errno(): number {
  const p = lib().__error();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** A `/dev/bpfN` capture bound to one interface (macOS only). */
export class BpfDevice {
  readonly fd: number;
  readonly dlt: number;
  #buf: Uint8Array;
  #closed = false;

  /**
   * Opens the first free BPF device and binds it to `ifname` in immediate mode.
   * @throws {Error} If every device is busy or an ioctl fails.
   */
  constructor(ifname: string) {
    const l = lib();
    let fd = -1;
    for (let i = 0; i < 256 && fd < 0; i++) {
      fd = l.open(new TextEncoder().encode(`/dev/bpf${i}\0`), DARWIN.O_RDWR);
      if (fd < 0 && errno() !== DARWIN.EBUSY) {
        throw new Error(`failed to open /dev/bpf${i}: errno ${errno()}`);
      }
    }
    if (fd < 0) throw new Error("pickBpfDevice tried all 256 bpf devices, were all busy");
    this.fd = fd;
    const u = new Uint8Array(4);
    const dv = new DataView(u.buffer);
    dv.setUint32(0, 1 << 16, true);
    l.ioctl(fd, BigInt(BIOC.SBLEN), u);
    const steps: [number, Uint8Array][] = [[BIOC.SETIF, ifreq(ifname)], [
      BIOC.IMMEDIATE,
      new Uint8Array([1, 0, 0, 0]),
    ]];
    for (const [req, arg] of steps) {
      if (l.ioctl(fd, BigInt(req), arg) < 0) {
        l.close(fd);
        throw new Error(`bpf ioctl 0x${req.toString(16)} failed: errno ${errno()}`);
      }
    }
    l.ioctl(fd, BigInt(BIOC.GBLEN), u);
    this.#buf = new Uint8Array(dv.getUint32(0, true) || 1 << 16);
    const d = new Uint8Array(4);
    l.ioctl(fd, BigInt(BIOC.GDLT), d);
    this.dlt = new DataView(d.buffer).getUint32(0, true);
  }

  /** Reads one batch (blocking on a pool thread) and returns its records. */
  async read(): Promise<BpfRecord[]> {
    const n = Number(await lib().read_nb(this.fd, this.#buf, BigInt(this.#buf.length)));
    if (n <= 0) return [];
    return parseBpfBuffer(this.#buf.subarray(0, n));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    lib().close(this.fd);
  }
}

const SOCK = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

let darwinSock: Deno.DynamicLibrary<typeof SOCK> | undefined;

function sock() {
  if (Deno.build.os !== "darwin") throw new Error("Darwin raw sockets are for macOS");
  return (darwinSock ??= Deno.dlopen("libSystem.B.dylib", SOCK)).symbols;
}

/** BSD `sockaddr_in`/`sockaddr_in6` (with the leading `sin_len` byte). */
export function bsdSockaddr(addr: Uint8Array): Uint8Array {
  if (addr.length === 4) {
    const b = new Uint8Array(16);
    b[0] = 16;
    b[1] = 2;
    b.set(addr, 4);
    return b;
  }
  const b = new Uint8Array(28);
  b[0] = 28;
  b[1] = DARWIN.AF_INET6;
  b.set(addr, 8);
  return b;
}

/** Raw IP sender for macOS applying the host-order and IPv6 quirks (macOS only). */
export class DarwinRawSender {
  #fd4 = -1;
  #fd6 = new Map<number, number>();

  send(packet: Uint8Array, dst: Uint8Array): void {
    const s = sock();
    const one = new Uint8Array([1, 0, 0, 0]);
    if (dst.length === 4) {
      if (this.#fd4 < 0) {
        this.#fd4 = s.socket(2, 3, 255);
        if (this.#fd4 < 0) throw new Error(`socket(SOCK_RAW): errno ${errno()}`);
        s.setsockopt(this.#fd4, 0, DARWIN.IP_HDRINCL, one, 4);
      }
      const p = darwinRawIPv4(packet);
      const sa = bsdSockaddr(dst);
      if (Number(s.sendto(this.#fd4, p, BigInt(p.length), 0, sa, sa.length)) < 0) {
        throw new Error(`sendto: errno ${errno()}`);
      }
      return;
    }
    const { payload, nextHeader, hopLimit } = darwinRawIPv6(packet);
    let fd = this.#fd6.get(nextHeader);
    if (fd === undefined) {
      fd = s.socket(DARWIN.AF_INET6, 3, nextHeader);
      if (fd < 0) throw new Error(`socket(AF_INET6, SOCK_RAW): errno ${errno()}`);
      this.#fd6.set(nextHeader, fd);
    }
    const hl = new Uint8Array(4);
    new DataView(hl.buffer).setInt32(0, hopLimit, true);
    s.setsockopt(fd, DARWIN.IPPROTO_IPV6, DARWIN.IPV6_UNICAST_HOPS, hl, 4);
    const sa = bsdSockaddr(dst);
    if (Number(s.sendto(fd, payload, BigInt(payload.length), 0, sa, sa.length)) < 0) {
      throw new Error(`sendto: errno ${errno()}`);
    }
  }

  close(): void {
    if (this.#fd4 >= 0) sock().close(this.#fd4);
    for (const fd of this.#fd6.values()) sock().close(fd);
    this.#fd4 = -1;
    this.#fd6.clear();
  }
}
