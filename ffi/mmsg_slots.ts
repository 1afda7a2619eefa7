/**
 * Preallocated `recvmmsg`/`sendmmsg` vectors: every `mmsghdr`, iovec, address, payload and control
 * buffer is allocated once and addressed by slot index, so moving a datagram costs no allocation.
 * {@linkcode GsoVector} regroups a send vector into UDP_SEGMENT messages (runs of equal-sized
 * datagrams to one address). Layouts: `mmsg.ts`.
 *
 * @module
 */
import {
  CMSG_INT_SPACE,
  GSO_MAX_BYTES,
  GSO_MAX_SEGMENTS,
  H,
  IOVEC,
  MMSGHDR,
  SOCKADDR_MAX,
  SOL_UDP,
  UDP_GRO,
  UDP_SEGMENT,
} from "./mmsg.ts";
import { sameSockaddr } from "./sockaddr.ts";

/** The address of `b`'s first byte, as a number (user-space pointers fit in 53 bits). */
export function addressOf(b: Uint8Array): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b as Uint8Array<ArrayBuffer>)));
}

/** Writes pointer `p` as a little-endian u64 without a BigInt. */
function setPtr(v: DataView, off: number, p: number): void {
  v.setUint32(off, p % 0x1_0000_0000, true);
  v.setUint32(off + 4, Math.floor(p / 0x1_0000_0000), true);
}

/** `count` mmsghdr slots, each with one iovec over a `slotSize` payload buffer and an address buffer. */
export class MsgSlots {
  /** Number of slots. */
  readonly count: number;
  /** Payload bytes per slot. */
  readonly slotSize: number;
  /** Control bytes per slot (0: none). */
  readonly ctrlSize: number;
  /** The mmsghdr array handed to the kernel. */
  readonly hdrs: Uint8Array;
  /** A view of {@linkcode hdrs}. */
  readonly hv: DataView;
  /** Slot payload buffers (`slotSize` bytes each). */
  readonly data: Uint8Array[] = [];
  /** Slot address buffers (`SOCKADDR_MAX` bytes each). */
  readonly names: Uint8Array[] = [];
  /** Address of slot 0's iovec; slot i's is 16·i further. */
  readonly iovBase: number;
  /** Address of slot 0's address buffer; slot i's is 28·i further. */
  readonly nameBase: number;
  readonly #iv: DataView;
  readonly #ctrl: DataView;
  /** Keeps the buffers the kernel points into alive. */
  readonly #keep: Uint8Array[];

  /** Allocates `count` slots of `slotSize` payload bytes and `ctrlSize` control bytes each. */
  constructor(count: number, slotSize: number, ctrlSize = 0) {
    this.count = count;
    this.slotSize = slotSize;
    this.ctrlSize = ctrlSize;
    this.hdrs = new Uint8Array(count * MMSGHDR);
    this.hv = new DataView(this.hdrs.buffer);
    const arena = new Uint8Array(count * slotSize);
    const names = new Uint8Array(count * SOCKADDR_MAX);
    const iovs = new Uint8Array(count * IOVEC);
    const ctrl = new Uint8Array(Math.max(8, count * ctrlSize));
    this.#keep = [arena, names, iovs, ctrl];
    this.#iv = new DataView(iovs.buffer);
    this.#ctrl = new DataView(ctrl.buffer);
    const arenaP = addressOf(arena), ctrlP = addressOf(ctrl);
    this.iovBase = addressOf(iovs);
    this.nameBase = addressOf(names);
    for (let i = 0; i < count; i++) {
      setPtr(this.#iv, i * IOVEC, arenaP + i * slotSize);
      this.#iv.setUint32(i * IOVEC + 8, slotSize, true);
      const h = i * MMSGHDR;
      setPtr(this.hv, h + H.name, this.nameBase + i * SOCKADDR_MAX);
      this.hv.setUint32(h + H.namelen, SOCKADDR_MAX, true);
      setPtr(this.hv, h + H.iov, this.iovBase + i * IOVEC);
      this.hv.setUint32(h + H.iovlen, 1, true);
      if (ctrlSize > 0) setPtr(this.hv, h + H.control, ctrlP + i * ctrlSize);
      this.data.push(arena.subarray(i * slotSize, (i + 1) * slotSize));
      this.names.push(names.subarray(i * SOCKADDR_MAX, (i + 1) * SOCKADDR_MAX));
    }
  }

  /** Re-arms the first `n` slots for `recvmmsg` (the kernel shrank their name and control lengths). */
  prepareRecv(n: number): void {
    const hv = this.hv;
    for (let i = 0; i < n; i++) {
      hv.setUint32(i * MMSGHDR + H.namelen, SOCKADDR_MAX, true);
      if (this.ctrlSize) hv.setUint32(i * MMSGHDR + H.controllen, this.ctrlSize, true);
    }
  }

  /** Bytes received into slot `i` (capped at the slot size). */
  received(i: number): number {
    return Math.min(this.hv.getUint32(i * MMSGHDR + H.len, true), this.slotSize);
  }

  /** The UDP_GRO segment size in slot `i`'s control data, 0 if none (one datagram). */
  groSegment(i: number): number {
    const total = this.hv.getUint32(i * MMSGHDR + H.controllen, true);
    const cv = this.#ctrl;
    const base = i * this.ctrlSize;
    for (let off = 0; off + 16 <= total;) {
      const len = cv.getUint32(base + off, true);
      if (len < 16 || off + len > total) return 0;
      if (cv.getInt32(base + off + 8, true) === SOL_UDP && cv.getInt32(base + off + 12, true) === UDP_GRO) {
        return cv.getInt32(base + off + 16, true);
      }
      off += (len + 7) & ~7;
    }
    return 0;
  }

  /**
   * Addresses slot `i`, whose first `length` bytes hold a datagram, to sockaddr `to`, or to the
   * socket's connected peer when `to` is null (no address: the kernel skips the route lookup).
   */
  address(i: number, length: number, to: Uint8Array | null): void {
    const h = i * MMSGHDR;
    if (to) {
      const name = this.names[i];
      for (let k = 0; k < to.length; k++) name[k] = to[k];
      this.hv.setUint32(h + H.namelen, to.length, true);
    } else {
      this.hv.setUint32(h + H.namelen, 0, true);
    }
    this.#iv.setUint32(i * IOVEC + 8, length, true);
  }

  /** True if addressed slots `i` and `j` go to the same destination. */
  sameDestination(i: number, j: number): boolean {
    const a = this.hv.getUint32(i * MMSGHDR + H.namelen, true);
    if (a !== this.hv.getUint32(j * MMSGHDR + H.namelen, true)) return false;
    return a === 0 || sameSockaddr(this.names[i], this.names[j]);
  }
}

/**
 * A second mmsghdr vector over a send {@linkcode MsgSlots}' iovecs: each entry is a run of
 * consecutive slots sent as one UDP_SEGMENT message (or a single datagram).
 */
export class GsoVector {
  /** The mmsghdr array handed to `sendmmsg` after {@linkcode plan}. */
  readonly hdrs: Uint8Array;
  /** Datagrams in each entry of the last {@linkcode plan}. */
  readonly segments: Uint32Array;
  readonly #hv: DataView;
  readonly #cv: DataView;
  readonly #ctrlBase: number;
  readonly #ctrl: Uint8Array;

  /** Room for `count` entries (the send vector's slot count). */
  constructor(count: number) {
    this.hdrs = new Uint8Array(count * MMSGHDR);
    this.segments = new Uint32Array(count);
    this.#hv = new DataView(this.hdrs.buffer);
    this.#ctrl = new Uint8Array(count * CMSG_INT_SPACE);
    this.#cv = new DataView(this.#ctrl.buffer);
    this.#ctrlBase = addressOf(this.#ctrl);
  }

  /**
   * Groups the first `count` addressed slots of `tx` (datagram lengths `lens`) into runs: equal
   * lengths to one destination, where only the last may be shorter. Returns the number of entries.
   */
  plan(tx: MsgSlots, lens: Uint32Array, count: number): number {
    const hv = this.#hv, cv = this.#cv;
    let entries = 0;
    for (let i = 0; i < count;) {
      const seg = lens[i];
      let k = 1;
      while (
        i + k < count && k < GSO_MAX_SEGMENTS && (k + 1) * seg <= GSO_MAX_BYTES && lens[i + k - 1] === seg &&
        lens[i + k] <= seg && tx.sameDestination(i, i + k)
      ) k++;
      // A shorter datagram may only end a run.
      while (k > 1 && lens[i + k - 2] !== seg) k--;
      const h = entries * MMSGHDR;
      setPtr(hv, h + H.name, tx.nameBase + i * SOCKADDR_MAX);
      hv.setUint32(h + H.namelen, tx.hv.getUint32(i * MMSGHDR + H.namelen, true), true);
      setPtr(hv, h + H.iov, tx.iovBase + i * IOVEC);
      hv.setUint32(h + H.iovlen, k, true);
      if (k > 1) {
        const c = entries * CMSG_INT_SPACE;
        cv.setUint32(c, 18, true); // cmsg_len = CMSG_LEN(sizeof(uint16_t))
        cv.setInt32(c + 8, SOL_UDP, true);
        cv.setInt32(c + 12, UDP_SEGMENT, true);
        cv.setUint16(c + 16, seg, true);
        setPtr(hv, h + H.control, this.#ctrlBase + c);
        hv.setUint32(h + H.controllen, CMSG_INT_SPACE, true);
      } else {
        setPtr(hv, h + H.control, 0);
        hv.setUint32(h + H.controllen, 0, true);
      }
      this.segments[entries] = k;
      entries++;
      i += k;
    }
    return entries;
  }
}
