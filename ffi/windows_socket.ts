/**
 * Windows sockets through FFI (`ws2_32.dll`) for the paths that need no driver (spec §5.5, §8):
 * - the raw path: one `AF_INET/SOCK_RAW/IPPROTO_IP` socket with IP_HDRINCL that both sends
 *   probes and receives replies (SO_RCVTIMEO-bounded reads on a pool thread); IPv4 only;
 * - `syn_socket`: a real non-blocking connect() per TTL with `TCP_FAIL_CONNECT_ON_ICMP_ERROR`,
 *   polled with WSAPoll every 100 ms, the hop read from `TCP_ICMP_ERROR_INFO`.
 *
 * Struct layouts (sockaddr, WSAPOLLFD, ICMP_ERROR_INFO) are unit-tested on Linux; the sockets run
 * only on Windows.
 *
 * @module
 */

/** Winsock constants. */
export const WS = {
  AF_INET: 2,
  AF_INET6: 23,
  SOCK_STREAM: 1,
  SOCK_RAW: 3,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IP_HDRINCL: 2,
  IP_TTL: 4,
  SOL_SOCKET: 0xffff,
  SO_RCVTIMEO: 0x1006,
  SO_ERROR: 0x1007,
  TCP_FAIL_CONNECT_ON_ICMP_ERROR: 18,
  TCP_ICMP_ERROR_INFO: 19,
  FIONBIO: 0x8004667e,
  POLLWRNORM: 0x0010,
  POLLERR: 0x0001,
  POLLHUP: 0x0002,
  WSAEWOULDBLOCK: 10035,
  WSAETIMEDOUT: 10060,
  WSAECONNREFUSED: 10061,
  WSAEHOSTUNREACH: 10065,
} as const;

/** Windows `SOCKADDR_IN` (16 bytes) / `SOCKADDR_IN6` (28 bytes): family little-endian, no length byte. */
export function winSockaddr(addr: Uint8Array, port: number): Uint8Array {
  const b = new Uint8Array(addr.length === 4 ? 16 : 28);
  const v = new DataView(b.buffer);
  v.setUint16(0, addr.length === 4 ? WS.AF_INET : WS.AF_INET6, true);
  v.setUint16(2, port);
  b.set(addr, addr.length === 4 ? 4 : 8);
  return b;
}

/** Parses a `SOCKADDR_INET`; null for other families. */
export function parseWinSockaddr(b: Uint8Array): { addr: Uint8Array; port: number } | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fam = v.getUint16(0, true);
  if (fam === WS.AF_INET) return { addr: b.slice(4, 8), port: v.getUint16(2) };
  if (fam === WS.AF_INET6) return { addr: b.slice(8, 24), port: v.getUint16(2) };
  return null;
}

/** sizeof(ICMP_ERROR_INFO): SOCKADDR_INET (28) + IPPROTO (4) + type + code, padded to 4. */
export const ICMP_ERROR_INFO_SIZE = 36;

/** Parses `ICMP_ERROR_INFO` (from `getsockopt(TCP_ICMP_ERROR_INFO)`). */
export function parseIcmpErrorInfo(
  b: Uint8Array,
): { src: Uint8Array; protocol: number; type: number; code: number } {
  if (b.length < 34) throw new RangeError(`ICMP_ERROR_INFO needs 34 bytes, got ${b.length}`);
  const sa = parseWinSockaddr(b.subarray(0, 28));
  if (!sa) throw new TypeError("ICMP_ERROR_INFO has an unknown address family");
  return {
    src: sa.addr,
    protocol: new DataView(b.buffer, b.byteOffset).getInt32(28, true),
    type: b[32],
    code: b[33],
  };
}

/** One `WSAPOLLFD` (16 bytes): SOCKET, events, revents. */
export function wsaPollFd(socket: bigint, events: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, socket, true);
  v.setInt16(8, events, true);
  return b;
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "u64" },
  setsockopt: { parameters: ["u64", "i32", "i32", "buffer", "i32"], result: "i32" },
  getsockopt: { parameters: ["u64", "i32", "i32", "buffer", "buffer"], result: "i32" },
  ioctlsocket: { parameters: ["u64", "i32", "buffer"], result: "i32" },
  connect: { parameters: ["u64", "buffer", "i32"], result: "i32" },
  sendto: { parameters: ["u64", "buffer", "i32", "i32", "buffer", "i32"], result: "i32" },
  recvfrom_nb: {
    name: "recvfrom",
    parameters: ["u64", "buffer", "i32", "i32", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  WSAPoll_nb: { name: "WSAPoll", parameters: ["buffer", "u32", "i32"], result: "i32", nonblocking: true },
  WSAGetLastError: { parameters: [], result: "i32" },
  closesocket: { parameters: ["u64"], result: "i32" },
} as const;

let ws2: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function lib() {
  if (Deno.build.os !== "windows") throw new Error("Winsock is Windows-only");
  return (ws2 ??= Deno.dlopen("ws2_32.dll", SYMBOLS)).symbols;
}

const INVALID_SOCKET = 0xffffffffffffffffn;

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** The Windows raw-socket path: send with IP_HDRINCL, receive on the same socket (IPv4 only). */
export class WinRawSocket {
  #s: bigint;
  #buf = new Uint8Array(65536);

  constructor() {
    const l = lib();
    this.#s = l.socket(WS.AF_INET, WS.SOCK_RAW, WS.IPPROTO_IP);
    if (this.#s === INVALID_SOCKET) throw new Error(`socket(SOCK_RAW): WSA error ${l.WSAGetLastError()}`);
    l.setsockopt(this.#s, WS.IPPROTO_IP, WS.IP_HDRINCL, int32(1), 4);
    l.setsockopt(this.#s, WS.SOL_SOCKET, WS.SO_RCVTIMEO, int32(100), 4);
  }

  send(packet: Uint8Array, dst: Uint8Array): void {
    const sa = winSockaddr(dst, 0);
    if (lib().sendto(this.#s, packet, packet.length, 0, sa, sa.length) < 0) {
      throw new Error(`sendto: WSA error ${lib().WSAGetLastError()}`);
    }
  }

  /** Reads one IP packet, or null after the 100 ms receive timeout. */
  async recv(): Promise<Uint8Array | null> {
    const n = await lib().recvfrom_nb(this.#s, this.#buf, this.#buf.length, 0, null, null);
    return n > 0 ? this.#buf.slice(0, n) : null;
  }

  close(): void {
    lib().closesocket(this.#s);
  }
}

/** The outcome of one syn_socket probe. */
export type SynSocketResult =
  | { kind: "hop"; ip: Uint8Array; type: number; code: number }
  | { kind: "dest" }
  | { kind: "timeout" }
  | { kind: "error"; wsaError: number };

/**
 * One syn_socket probe: connect with `ttl`, poll every 100 ms until `timeoutMs`, classify.
 * (Windows only.)
 */
export async function synSocketProbe(
  target: Uint8Array,
  port: number,
  ttl: number,
  timeoutMs: number,
): Promise<SynSocketResult> {
  const l = lib();
  const s = l.socket(target.length === 4 ? WS.AF_INET : WS.AF_INET6, WS.SOCK_STREAM, WS.IPPROTO_TCP);
  if (s === INVALID_SOCKET) return { kind: "error", wsaError: l.WSAGetLastError() };
  try {
    l.setsockopt(s, WS.IPPROTO_TCP, WS.TCP_FAIL_CONNECT_ON_ICMP_ERROR, int32(1), 4);
    l.setsockopt(s, WS.IPPROTO_IP, WS.IP_TTL, int32(ttl), 4);
    l.ioctlsocket(s, WS.FIONBIO, int32(1));
    const sa = winSockaddr(target, port);
    if (l.connect(s, sa, sa.length) !== 0 && l.WSAGetLastError() !== WS.WSAEWOULDBLOCK) {
      return { kind: "error", wsaError: l.WSAGetLastError() };
    }
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const pfd = wsaPollFd(s, WS.POLLWRNORM);
      const n = await l.WSAPoll_nb(pfd, 1, Math.min(100, Math.max(1, until - performance.now())));
      if (n <= 0) continue;
      const err = new Uint8Array(4), len = int32(4);
      l.getsockopt(s, WS.SOL_SOCKET, WS.SO_ERROR, err, len);
      const code = new DataView(err.buffer).getInt32(0, true);
      if (code === 0) return { kind: "dest" };
      if (code === WS.WSAEHOSTUNREACH) {
        const info = new Uint8Array(ICMP_ERROR_INFO_SIZE), ilen = int32(ICMP_ERROR_INFO_SIZE);
        l.getsockopt(s, WS.IPPROTO_TCP, WS.TCP_ICMP_ERROR_INFO, info, ilen);
        const i = parseIcmpErrorInfo(info);
        return { kind: "hop", ip: i.src, type: i.type, code: i.code };
      }
      return { kind: "error", wsaError: code };
    }
    return { kind: "timeout" };
  } finally {
    l.closesocket(s);
  }
}
