/**
 * A UDP DNS server on Linux that moves datagrams in batches with `recvmmsg`/`sendmmsg` through
 * FFI (up to 64 per system call), answering cache hits and rule answers synchronously from the
 * router ({@linkcode DnsRouter.exchangeSync}) and everything else through the full async path.
 * Deno's own UDP API costs one op per datagram, which caps a DNS server well below dnsmasq;
 * this path is for a DNS inbound under load. Readiness comes from the shared FFI poller.
 *
 * @module
 */
import { C, libc, parseSockaddr, sockaddr } from "../../ffi/libc.ts";
import { check, lastError } from "../../ffi/os_error.ts";
import { getPoller, type Registration } from "../../ffi/poller.ts";
import type { Metadata } from "../adapter/types.ts";
import { formatIp, parseIp } from "../common/ip.ts";
import type { Logger } from "../common/log.ts";
import type { DnsRouter } from "./router.ts";
import { answerAsync, truncateResponse, udpLimit } from "./serve.ts";
import { isResponse } from "./wire.ts";

const BATCH = 64;
const BUF = 4096;
const NAME = 28;
const MMSG = 64; // sizeof(struct mmsghdr) on 64-bit Linux
const MSG_DONTWAIT = 0x40;

let mmsgLib:
  | Deno.DynamicLibrary<{
    recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"]; result: "i32" };
    sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"]; result: "i32" };
  }>
  | undefined;

function mmsg() {
  mmsgLib ??= Deno.dlopen("libc.so.6", {
    recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
    sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  });
  return mmsgLib.symbols;
}

function ptr(buf: Uint8Array, offset = 0): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>))) +
    BigInt(offset);
}

/** One vector of `mmsghdr`s with its data, name and iovec buffers. */
class MsgVector {
  readonly hdrs = new Uint8Array(BATCH * MMSG);
  readonly data = new Uint8Array(BATCH * BUF);
  readonly names = new Uint8Array(BATCH * NAME);
  readonly iovs = new Uint8Array(BATCH * 16);
  readonly #view = new DataView(this.hdrs.buffer);
  readonly #iovView = new DataView(this.iovs.buffer);

  constructor() {
    for (let i = 0; i < BATCH; i++) {
      this.#iovView.setBigUint64(i * 16, ptr(this.data, i * BUF), true);
      this.#iovView.setBigUint64(i * 16 + 8, BigInt(BUF), true);
      const h = i * MMSG;
      this.#view.setBigUint64(h, ptr(this.names, i * NAME), true); // msg_name
      this.#view.setUint32(h + 8, NAME, true); // msg_namelen
      this.#view.setBigUint64(h + 16, ptr(this.iovs, i * 16), true); // msg_iov
      this.#view.setBigUint64(h + 24, 1n, true); // msg_iovlen
    }
  }

  /** Prepares entry `i` for receiving. */
  resetForRecv(i: number): void {
    this.#view.setUint32(i * MMSG + 8, NAME, true);
    this.#iovView.setBigUint64(i * 16 + 8, BigInt(BUF), true);
  }

  /** Fills entry `i` for sending `payload` to the address in `name`. */
  setSend(i: number, payload: Uint8Array, name: Uint8Array): void {
    const len = Math.min(payload.length, BUF);
    this.data.set(payload.subarray(0, len), i * BUF);
    this.#iovView.setBigUint64(i * 16 + 8, BigInt(len), true);
    this.names.set(name, i * NAME);
    this.#view.setUint32(i * MMSG + 8, name.length, true);
  }

  received(i: number): number {
    return this.#view.getUint32(i * MMSG + 56, true);
  }

  nameLen(i: number): number {
    return this.#view.getUint32(i * MMSG + 8, true);
  }
}

/** A batch UDP DNS server. */
export interface BatchDnsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves UDP DNS on `hostname:port` with batched system calls (Linux only).
 *
 * @throws {OSError} If the socket cannot be bound
 */
export function listenDnsBatch(
  router: DnsRouter,
  options: { hostname: string; port: number; inbound?: string; logger?: Logger },
): BatchDnsListener {
  const addr = parseIp(options.hostname);
  if (!addr) throw new TypeError(`Cannot listen on "${options.hostname}": not an IP address`);
  const lc = libc();
  const fd = check(
    "socket(SOCK_DGRAM)",
    lc.socket(addr.length === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
  );
  const sa = sockaddr(addr, options.port);
  if (lc.bind(fd, sa, sa.length) < 0) {
    const e = lastError("bind");
    lc.close(fd);
    throw e;
  }
  const nameBuf = new Uint8Array(NAME);
  const nameLen = new Uint8Array(4);
  new DataView(nameLen.buffer).setUint32(0, NAME, true);
  lc.getsockname(fd, nameBuf, nameLen);
  const port = parseSockaddr(nameBuf)!.port;
  const base: Metadata = {
    inbound: options.inbound ?? "dns-in",
    inboundType: "direct",
    network: "udp",
    source: { host: "", port: 0 },
    destination: { host: options.hostname, port },
  };
  const rx = new MsgVector();
  const tx = new MsgVector();
  const pending = new Set<Promise<void>>();
  const lib = mmsg();
  let closed = false;

  const sendOne = (payload: Uint8Array, name: Uint8Array) => {
    if (!closed) lc.sendto(fd, payload, BigInt(payload.length), 0, name, name.length);
  };

  const drain = () => {
    for (;;) {
      for (let i = 0; i < BATCH; i++) rx.resetForRecv(i);
      const n = lib.recvmmsg(fd, rx.hdrs, BATCH, MSG_DONTWAIT, null);
      if (n <= 0) return;
      let out = 0;
      for (let i = 0; i < n; i++) {
        const len = rx.received(i);
        const query = rx.data.subarray(i * BUF, i * BUF + len);
        if (len < 12 || isResponse(query)) continue;
        const name = rx.names.slice(i * NAME, i * NAME + rx.nameLen(i));
        const from = parseSockaddr(name);
        const md = { ...base, source: { host: from ? formatIp(from.addr) : "", port: from?.port ?? 0 } };
        const fast = router.exchangeSync(query, md);
        if (fast === null) continue;
        if (fast !== undefined) {
          tx.setSend(out++, truncateResponse(fast, udpLimit(query)), name);
          continue;
        }
        const copy = query.slice();
        const p = answerAsync(router, copy, md, options.logger).then((r) => {
          if (r) sendOne(truncateResponse(r, udpLimit(copy)), name);
        });
        pending.add(p);
        p.finally(() => pending.delete(p));
      }
      for (let sent = 0; sent < out;) {
        const r = lib.sendmmsg(
          fd,
          out === BATCH && sent === 0 ? tx.hdrs : tx.hdrs.subarray(sent * MMSG),
          out - sent,
          0,
        );
        if (r <= 0) break; // socket buffer full: drop the rest, as a loaded UDP server does
        sent += r;
      }
      if (n < BATCH) return;
    }
  };

  const reg: Registration = getPoller().register(fd, C.POLLIN, () => drain());
  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      reg.close();
      await Promise.all([...pending]);
      lc.close(fd);
    },
  };
}
