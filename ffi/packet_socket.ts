/**
 * Linux packet capture: `AF_PACKET/SOCK_DGRAM/ETH_P_ALL`, not bound to an interface, classic BPF
 * through `SO_ATTACH_FILTER`, read from the shared poller. SOCK_DGRAM delivers every frame from its
 * network header whatever the link (Ethernet, loopback, tun, WireGuard), with the EtherType in
 * `sll_protocol`. Outgoing copies (PACKET_OUTGOING) are skipped, so loopback replies appear once.
 *
 * Race fix: the socket starts with a drop-all filter, is drained, then gets the real filter, so
 * nothing captured before the filter was in place is ever delivered.
 *
 * @module
 */
import { C, libc } from "./libc.ts";
import { enableTimestamps, RecvMsg } from "./recvmsg.ts";
import { check, lastError } from "./os_error.ts";
import { getPoller, type Registration } from "./poller.ts";
import { type BpfInsn, dropAllFilter, encodeFilter } from "../src/traceroute/packets/cbpf.ts";

/** A captured packet: bytes from the IP header, its EtherType and the kernel receive time (realtime ns). */
export type PacketHandler = (packet: Uint8Array, etherType: number, timeNs: number) => void;

function attach(fd: number, prog: BpfInsn[]): void {
  const insns = encodeFilter(prog);
  const fprog = new Uint8Array(16);
  const v = new DataView(fprog.buffer);
  v.setUint16(0, prog.length, true);
  v.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(insns))), true);
  check("setsockopt(SO_ATTACH_FILTER)", libc().setsockopt(fd, C.SOL_SOCKET, C.SO_ATTACH_FILTER, fprog, 16));
}

/** A packet socket delivering filtered IP packets to a handler. */
export class PacketCapture {
  readonly fd: number;
  #reg: Registration | null = null;
  #rx = new RecvMsg(65536, 20);
  #handler: PacketHandler;

  /**
   * Opens the socket with `filter` installed race-free and starts delivering to `handler`.
   * @throws {OSError} If the socket cannot be created (EPERM without CAP_NET_RAW).
   */
  constructor(filter: BpfInsn[], handler: PacketHandler) {
    const lc = libc();
    const proto = ((C.ETH_P_ALL & 0xff) << 8) | (C.ETH_P_ALL >> 8);
    this.fd = check(
      "socket(AF_PACKET)",
      lc.socket(C.AF_PACKET, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, proto),
    );
    this.#handler = handler;
    try {
      enableTimestamps(this.fd);
      attach(this.fd, dropAllFilter());
      this.#drain(false);
      attach(this.fd, filter);
    } catch (e) {
      lc.close(this.fd);
      throw e;
    }
    this.#reg = getPoller().register(this.fd, C.POLLIN, () => this.#drain(true));
  }

  /** Replaces the filter (atomic in the kernel). */
  setFilter(filter: BpfInsn[]): void {
    attach(this.fd, filter);
  }

  #drain(deliver: boolean): void {
    const rx = this.#rx;
    for (;;) {
      const n = rx.recv(this.fd);
      if (n < 0) return;
      if (!deliver || rx.name[10] === C.PACKET_OUTGOING) continue;
      const etherType = (rx.name[2] << 8) | rx.name[3];
      this.#handler(rx.data.slice(0, n), etherType, rx.timestampNs());
    }
  }

  /** Stops delivery and closes the socket. Idempotent. */
  close(): void {
    if (!this.#reg) return;
    this.#reg.close();
    this.#reg = null;
    libc().close(this.fd);
  }
}

/**
 * Raw IP sender: `AF_INET(6)/SOCK_RAW/IPPROTO_RAW` (header included), non-blocking.
 */
export class RawSender {
  readonly fd: number;
  readonly v6: boolean;
  #closed = false;

  /** @throws {OSError} If raw sockets are refused (EPERM). */
  constructor(v6: boolean) {
    this.v6 = v6;
    const af = v6 ? C.AF_INET6 : C.AF_INET;
    this.fd = check(
      "socket(SOCK_RAW)",
      libc().socket(af, C.SOCK_RAW | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, C.IPPROTO_RAW),
    );
  }

  /** Sends one IP packet (header included) to `dst` (4 or 16 bytes). */
  send(packet: Uint8Array, dst: Uint8Array): void {
    const sa = new Uint8Array(this.v6 ? 28 : 16);
    const v = new DataView(sa.buffer);
    v.setUint16(0, this.v6 ? C.AF_INET6 : C.AF_INET, true);
    sa.set(dst, this.v6 ? 8 : 4);
    const n = Number(libc().sendto(this.fd, packet, BigInt(packet.length), 0, sa, sa.length));
    if (n < 0) throw lastError("sendto");
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.fd);
  }
}
