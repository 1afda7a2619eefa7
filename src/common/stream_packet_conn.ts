/**
 * A {@linkcode PacketConn} carried inside a stream (UDP over Trojan, VLESS, VMess): each packet
 * is encoded onto the stream and decoded from it by the protocol's functions.
 *
 * @module
 */
import type { Packet, PacketConn, Socksaddr, Stream } from "../adapter/types.ts";
import { ByteQueue } from "./byte_queue.ts";
import { writeAll } from "./prefixed_stream.ts";

/** Protocol hooks of a {@linkcode StreamPacketConn}. */
export interface PacketFraming {
  /** Wire bytes for one packet. */
  encode(data: Uint8Array, addr: Socksaddr): Uint8Array;
  /** Next packet from `q`, `null` if more bytes are needed, `"eof"` at an in-band end. */
  decode(q: ByteQueue): Packet | null | "eof";
}

/** Packets over a stream. */
export class StreamPacketConn implements PacketConn {
  #inner: Stream;
  #f: PacketFraming;
  #q: ByteQueue;
  #prefix: Uint8Array | null;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();

  /** `prefix`: raw bytes (a request header) sent before the first packet. */
  constructor(inner: Stream, framing: PacketFraming, prefix?: Uint8Array, queue?: ByteQueue) {
    this.#inner = inner;
    this.#f = framing;
    this.#prefix = prefix?.length ? prefix : null;
    this.#q = queue ?? new ByteQueue(128 * 1024);
  }

  async readPacket(): Promise<Packet | null> {
    if (this.#prefix) await this.#write(new Uint8Array(0));
    for (;;) {
      if (this.#closed) return null;
      let p: Packet | null | "eof";
      try {
        p = this.#f.decode(this.#q);
      } catch {
        this.close();
        return null;
      }
      if (p === "eof") return null;
      if (p) return p;
      let n: number | null;
      try {
        n = await this.#inner.read(this.#q.reserve(65536 + 1024));
      } catch {
        n = null;
      }
      if (n === null) return null;
      this.#q.commit(n);
    }
  }

  #write(wire: Uint8Array): Promise<void> {
    if (this.#prefix) {
      const all = new Uint8Array(this.#prefix.length + wire.length);
      all.set(this.#prefix);
      all.set(wire, this.#prefix.length);
      this.#prefix = null;
      wire = all;
    }
    const w = this.#writing.then(() => writeAll(this.#inner, wire));
    this.#writing = w.catch(() => {});
    return w;
  }

  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Packet connection is closed"));
    return this.#write(this.#f.encode(data, addr).slice());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#inner.close();
    } catch { /* closed */ }
  }
}
