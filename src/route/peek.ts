/**
 * Peeking at the first bytes of a connection for the `sniff` action without losing any:
 * bytes read while sniffing are replayed, and a read still pending when the sniff timeout
 * fires is handed over to the next reader instead of being abandoned.
 *
 * @module
 */
import type { Packet, PacketConn, Socksaddr, Stream } from "../adapter/types.ts";

/** Largest number of bytes read while sniffing a stream. */
export const MAX_PEEK_BYTES = 8 * 1024;

/** A stream that replays peeked bytes, then a possibly pending read, then the inner stream. */
class PeekedStream implements Stream {
  #inner: Stream;
  #prefix: Uint8Array | null;
  #pending: { promise: Promise<number | null>; buf: Uint8Array } | null;

  constructor(
    inner: Stream,
    prefix: Uint8Array,
    pending: { promise: Promise<number | null>; buf: Uint8Array } | null,
  ) {
    this.#inner = inner;
    this.#prefix = prefix.length ? prefix : null;
    this.#pending = pending;
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#prefix) {
      const n = Math.min(p.length, this.#prefix.length);
      p.set(this.#prefix.subarray(0, n));
      this.#prefix = n < this.#prefix.length ? this.#prefix.subarray(n) : null;
      return n;
    }
    if (this.#pending) {
      const { promise, buf } = this.#pending;
      this.#pending = null;
      const n = await promise;
      if (n === null) return null;
      this.#prefix = buf.subarray(0, n);
      return this.read(p);
    }
    return this.#inner.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#inner.write(p);
  }

  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }

  close(): void {
    this.#inner.close();
  }
}

/**
 * Reads from `stream` until `done(bytes)` is true, `MAX_PEEK_BYTES` are buffered, the stream
 * ends, or `timeoutMs` passes.
 *
 * @returns the bytes seen and a stream that yields exactly the original byte sequence
 */
export async function peekStream(
  stream: Stream,
  timeoutMs: number,
  done: (bytes: Uint8Array) => boolean,
): Promise<{ bytes: Uint8Array; stream: Stream }> {
  let bytes: Uint8Array = new Uint8Array(0);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0 || bytes.length >= MAX_PEEK_BYTES) {
      return { bytes, stream: new PeekedStream(stream, bytes, null) };
    }
    const buf = new Uint8Array(MAX_PEEK_BYTES - bytes.length);
    const promise = stream.read(buf);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left));
    const r = await Promise.race([promise, timedOut]).catch(() => null);
    clearTimeout(timer);
    if (r === "timeout") return { bytes, stream: new PeekedStream(stream, bytes, { promise, buf }) };
    if (r === null) return { bytes, stream: new PeekedStream(stream, bytes, { promise, buf }) };
    const next = new Uint8Array(bytes.length + r);
    next.set(bytes);
    next.set(buf.subarray(0, r), bytes.length);
    bytes = next;
    if (done(bytes)) return { bytes, stream: new PeekedStream(stream, bytes, null) };
  }
}

/** A packet connection that yields already-read packets first. */
class PeekedPacketConn implements PacketConn {
  #inner: PacketConn;
  #queue: Packet[];
  constructor(inner: PacketConn, queue: Packet[]) {
    this.#inner = inner;
    this.#queue = queue;
  }
  readPacket(): Promise<Packet | null> {
    const p = this.#queue.shift();
    return p ? Promise.resolve(p) : this.#inner.readPacket();
  }
  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    return this.#inner.writePacket(data, addr);
  }
  close(): void {
    this.#inner.close();
  }
}

/**
 * Reads datagrams until `done(packets)` is true or `timeoutMs` passes (at most 8 packets).
 * A read pending at the timeout stays with the returned connection.
 */
export async function peekPackets(
  conn: PacketConn,
  timeoutMs: number,
  done: (packets: Packet[]) => boolean,
): Promise<{ packets: Packet[]; conn: PacketConn }> {
  const packets: Packet[] = [];
  const deadline = performance.now() + timeoutMs;
  let pending: Promise<Packet | null> | null = null;
  while (packets.length < 8) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    pending = conn.readPacket();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      pending,
      new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
    ]);
    clearTimeout(timer);
    if (r === "timeout") break;
    pending = null;
    if (r === null) break;
    packets.push(r);
    if (done(packets)) break;
  }
  if (!pending) return { packets, conn: new PeekedPacketConn(conn, [...packets]) };
  const p = pending;
  const inner: PacketConn = {
    readPacket: () => {
      inner.readPacket = () => conn.readPacket();
      return p;
    },
    writePacket: (d, a) => conn.writePacket(d, a),
    close: () => conn.close(),
  };
  return { packets, conn: new PeekedPacketConn(inner, [...packets]) };
}
