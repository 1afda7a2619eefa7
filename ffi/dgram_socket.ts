/**
 * Datagram sockets through FFI: UDP and ICMP "ping" sockets with TTL control and the IP_RECVERR
 * error queue, read from the shared poller. Used to find the local address for a target (a
 * connected UDP "dial"), to reserve a UDP source port, and for unprivileged tracing.
 *
 * Gotcha (environment.md §1): with IP_RECVERR, an ICMP error already received is also latched in
 * `sk_err`, and the next `send()` fails with it (EHOSTUNREACH/ECONNREFUSED) without sending. The
 * error is still queued, so `send` retries.
 *
 * @module
 */
import { C, intOpt, libc, parseSockaddr, sockaddr } from "./libc.ts";
import { enableTimestamps, RecvMsg } from "./recvmsg.ts";
import { check, lastError } from "./os_error.ts";
import { getPoller, type Registration } from "./poller.ts";

/** One entry of the error queue (`sock_extended_err` plus offender). */
export interface QueuedError {
  /** Original datagram payload (UDP data or the ICMP echo header + data). */
  data: Uint8Array;
  /** ee_origin: 2 = ICMP, 3 = ICMPv6. */
  origin: number;
  type: number;
  code: number;
  errno: number;
  /** Address of the node that sent the ICMP error (SO_EE_OFFENDER), 4 or 16 bytes. */
  offender: Uint8Array | null;
  timeNs: number;
}

/** A received datagram. */
export interface Datagram {
  data: Uint8Array;
  from: Uint8Array | null;
  timeNs: number;
}

/**
 * A non-blocking socket read through the shared poller: datagram (`SOCK_DGRAM`, UDP or ICMP/ICMPv6)
 * or, for connect-based TCP probing, a stream socket (`SOCK_STREAM`).
 */
export class DgramSocket {
  readonly fd: number;
  readonly v6: boolean;
  #reg: Registration | null = null;
  #closed = false;
  #rx = new RecvMsg(2048, 28);

  /**
   * @param proto `C.IPPROTO_UDP`, `C.IPPROTO_ICMP` or `C.IPPROTO_ICMPV6`
   * @throws {OSError} If the socket is refused (ICMP ping sockets outside `ping_group_range`: EACCES).
   */
  constructor(v6: boolean, proto: number, type: number = C.SOCK_DGRAM) {
    this.v6 = v6;
    this.fd = check(
      type === C.SOCK_STREAM ? "socket(SOCK_STREAM)" : "socket(SOCK_DGRAM)",
      libc().socket(v6 ? C.AF_INET6 : C.AF_INET, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, proto),
    );
  }

  /**
   * Starts a non-blocking connect and returns 0 (done) or the errno (EINPROGRESS = 115 while a
   * TCP handshake is under way).
   */
  startConnect(addr: Uint8Array, port: number): number {
    const sa = sockaddr(addr, port);
    if (libc().connect(this.fd, sa, sa.length) === 0) return 0;
    return lastError("connect").errno;
  }

  /** Returns and clears the pending socket error (SO_ERROR). */
  socketError(): number {
    const v = new Uint8Array(4), len = intOpt(4);
    check("getsockopt(SO_ERROR)", libc().getsockopt(this.fd, C.SOL_SOCKET, C.SO_ERROR, v, len));
    return new DataView(v.buffer).getInt32(0, true);
  }

  /** Connects to `addr`:`port` (UDP: picks the route and an ephemeral port). */
  connect(addr: Uint8Array, port: number): void {
    const sa = sockaddr(addr, port);
    if (libc().connect(this.fd, sa, sa.length) < 0) {
      const e = lastError("connect");
      this.close();
      throw e;
    }
  }

  /** Returns the local address and port (after connect or send). */
  localAddr(): { addr: Uint8Array; port: number } {
    const sa = new Uint8Array(28);
    const len = intOpt(28);
    check("getsockname", libc().getsockname(this.fd, sa, len));
    const r = parseSockaddr(sa);
    if (!r) throw new Error("getsockname returned an unknown address family");
    return r;
  }

  /** Sets an integer socket option. */
  setOption(level: number, name: number, value: number): void {
    check("setsockopt", libc().setsockopt(this.fd, level, name, intOpt(value), 4));
  }

  /** Sets the unicast TTL / hop limit of the next datagrams. */
  setTtl(ttl: number): void {
    if (this.v6) this.setOption(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, ttl);
    else this.setOption(C.IPPROTO_IP, C.IP_TTL, ttl);
  }

  /** Turns on the error queue (IP_RECVERR / IPV6_RECVERR). */
  enableRecvErr(): void {
    if (this.v6) this.setOption(C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
    else this.setOption(C.IPPROTO_IP, C.IP_RECVERR, 1);
  }

  /**
   * Sends `data` on the connected socket, retrying when a latched ICMP error makes send() fail.
   * @throws {OSError} If it still fails after the retries.
   */
  send(data: Uint8Array): void {
    for (let i = 0; i < 16; i++) {
      const n = Number(libc().sendto(this.fd, data, BigInt(data.length), 0, null, 0));
      if (n >= 0) return;
      const e = lastError("sendto");
      if (e.errno !== 113 && e.errno !== 111 && e.errno !== 101 && e.errno !== 11) throw e;
    }
    throw lastError("sendto");
  }

  /**
   * Starts delivering datagrams and queued errors (kernel-timestamped) from the shared poller.
   * `onWritable`, when given, also watches POLLOUT (a stream connect finishing) and is called once.
   */
  listen(onData: (d: Datagram) => void, onError: (e: QueuedError) => void, onWritable?: () => void): void {
    enableTimestamps(this.fd);
    let wantOut = !!onWritable;
    this.#reg = getPoller().register(this.fd, C.POLLIN | (wantOut ? C.POLLOUT : 0), (revents) => {
      this.#drain(onData, onError);
      // in SYN_SENT any ICMP error ends the connect (tcp_v4_err), so every event is a result
      if (wantOut && revents & (C.POLLOUT | C.POLLHUP | C.POLLERR)) {
        wantOut = false;
        this.#reg?.setEvents(C.POLLIN);
        onWritable!();
      }
    });
  }

  #drain(onData: (d: Datagram) => void, onError: (e: QueuedError) => void): void {
    const rx = this.#rx;
    for (let i = 0; i < 256; i++) {
      const n = rx.recv(this.fd, C.MSG_ERRQUEUE);
      if (n < 0) break;
      const err = this.#parseError(n);
      if (err) onError(err);
    }
    for (let i = 0; i < 256; i++) {
      const n = rx.recv(this.fd);
      if (n < 0) break;
      const from = rx.nameLength ? parseSockaddr(rx.name)?.addr ?? null : null;
      onData({ data: rx.data.slice(0, n), from, timeNs: rx.timestampNs() });
    }
  }

  #parseError(n: number): QueuedError | null {
    const rx = this.#rx;
    for (const c of rx.cmsgs()) {
      const isErr = (c.level === C.IPPROTO_IP && c.type === C.IP_RECVERR) ||
        (c.level === C.IPPROTO_IPV6 && c.type === C.IPV6_RECVERR);
      if (!isErr || c.length < 16) continue;
      const d = c.offset;
      return {
        data: rx.data.slice(0, n),
        errno: rx.ctrlView.getUint32(d, true),
        origin: rx.ctrl[d + 4],
        type: rx.ctrl[d + 5],
        code: rx.ctrl[d + 6],
        offender: c.length >= 16 + 8
          ? parseSockaddr(rx.ctrl.subarray(d + 16, d + c.length))?.addr ?? null
          : null,
        timeNs: rx.timestampNs(),
      };
    }
    return null;
  }

  /** Stops delivery and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reg?.close();
    libc().close(this.fd);
  }
}

/**
 * Finds the local address the OS would use to reach `addr`:`port` with a connected UDP socket.
 * With `keep`, the socket stays open (reserving the port) and is returned for the caller to close.
 */
export function localAddrFor(
  addr: Uint8Array,
  port: number,
  keep = false,
): { addr: Uint8Array; port: number; socket?: DgramSocket } {
  const s = new DgramSocket(addr.length === 16, C.IPPROTO_UDP);
  s.connect(addr, port);
  const local = s.localAddr();
  if (keep) return { ...local, socket: s };
  s.close();
  return local;
}
