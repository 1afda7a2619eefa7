/**
 * A reusable `recvmsg(2)` frame: msghdr, one iovec, name and control buffers allocated once and
 * kept alive for the owner's lifetime (the kernel writes into them through raw pointers).
 *
 * @module
 */
import { C, intOpt, libc, realtimeNs, timespecNs } from "./libc.ts";
import { check } from "./os_error.ts";

let timestampsSince = 0;
let keeperFd = -1;

/** Turns on SO_TIMESTAMPNS for `fd` (kernel receive timestamps in the `recvmsg` control data). */
export function enableTimestamps(fd: number): void {
  check("setsockopt(SO_TIMESTAMPNS)", libc().setsockopt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, intOpt(1), 4));
  if (!timestampsSince) timestampsSince = performance.now();
}

/**
 * Resolves once kernel receive timestamps are in force. The first SO_TIMESTAMPNS socket of the
 * system flips a kernel static key through deferred work; until then packets carry no timestamp
 * and the kernel stamps them at recvmsg time, adding event-loop latency to RTTs. So the first call
 * opens a small keeper socket with timestamps on (held for the process's life, keeping the key
 * on between runs) and waits a few ms, once per process.
 */
export async function timestampsReady(): Promise<void> {
  if (Deno.build.os !== "linux") return;
  if (keeperFd < 0) {
    keeperFd = check("socket", libc().socket(C.AF_INET, C.SOCK_DGRAM | C.SOCK_CLOEXEC, 0));
    enableTimestamps(keeperFd);
  }
  const left = timestampsSince + 5 - performance.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}

/** One control message: level, type and the offset/length of its data in `ctrl`. */
export interface Cmsg {
  level: number;
  type: number;
  offset: number;
  length: number;
}

/** Scratch buffers for receiving one message at a time. */
export class RecvMsg {
  readonly msg = new Uint8Array(56);
  readonly name: Uint8Array;
  readonly ctrl = new Uint8Array(512);
  readonly data: Uint8Array;
  readonly ctrlView = new DataView(this.ctrl.buffer);
  #iov = new Uint8Array(16);
  #mv = new DataView(this.msg.buffer);

  constructor(dataSize = 65536, nameSize = 28) {
    this.data = new Uint8Array(dataSize);
    this.name = new Uint8Array(nameSize);
    const P = Deno.UnsafePointer;
    this.#mv.setBigUint64(0, BigInt(P.value(P.of(this.name))), true);
    this.#mv.setBigUint64(16, BigInt(P.value(P.of(this.#iov))), true);
    this.#mv.setBigUint64(24, 1n, true);
    this.#mv.setBigUint64(32, BigInt(P.value(P.of(this.ctrl))), true);
    const iv = new DataView(this.#iov.buffer);
    iv.setBigUint64(0, BigInt(P.value(P.of(this.data))), true);
    iv.setBigUint64(8, BigInt(this.data.length), true);
  }

  /** Receives one message with MSG_DONTWAIT added; returns the byte count or -1. */
  recv(fd: number, flags = 0): number {
    this.#mv.setUint32(8, this.name.length, true);
    this.#mv.setBigUint64(40, BigInt(this.ctrl.length), true);
    this.#mv.setInt32(48, 0, true);
    return Number(libc().recvmsg(fd, this.msg, flags | C.MSG_DONTWAIT));
  }

  /** Length the kernel wrote into `name`. */
  get nameLength(): number {
    return this.#mv.getUint32(8, true);
  }

  /** The control messages of the last receive. */
  *cmsgs(): Generator<Cmsg> {
    const total = Number(this.#mv.getBigUint64(40, true));
    for (let off = 0; off + 16 <= total;) {
      const len = Number(this.ctrlView.getBigUint64(off, true));
      if (len < 16 || off + len > total) return;
      yield {
        level: this.ctrlView.getInt32(off + 8, true),
        type: this.ctrlView.getInt32(off + 12, true),
        offset: off + 16,
        length: len - 16,
      };
      off += (len + 7) & ~7;
    }
  }

  /** The SO_TIMESTAMPNS kernel receive time in realtime ns, or now when absent. */
  timestampNs(): number {
    for (const c of this.cmsgs()) {
      if (c.level === C.SOL_SOCKET && c.type === C.SO_TIMESTAMPNS && c.length >= 16) {
        return timespecNs(this.ctrlView, c.offset);
      }
    }
    return realtimeNs();
  }
}
