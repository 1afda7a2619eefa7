/**
 * Adapts a `node:stream` Duplex (a `node:net`/`node:tls` socket, an HTTP/2 stream) to the
 * {@linkcode Stream} contract, and a Stream to a node Duplex ({@linkcode StreamDuplex}). Used
 * only where Deno's own connections lack a feature (binding a local address, `insecure` TLS,
 * TLS or HTTP/2 over a proxied stream); the relay fast path stays on `Deno.TcpConn`.
 *
 * @module
 */
import { Duplex } from "node:stream";
import type { Stream } from "../adapter/types.ts";
import { writeAll } from "./prefixed_stream.ts";

/** Options of {@linkcode NodeDuplexStream}. */
export interface NodeDuplexOptions {
  /** Reads wait for this first; a rejection fails them (e.g. an HTTP/2 response status). */
  ready?: Promise<void>;
  /** How to close both directions. @default destroy() */
  close?: () => void;
}

/** A Stream over a node Duplex, with backpressure (pauses after 16 queued chunks). */
export class NodeDuplexStream implements Stream {
  #d: Duplex;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | null = null;
  #waiter: (() => void) | null = null;
  #ready: Promise<void>;
  #close: () => void;

  constructor(d: Duplex, options: NodeDuplexOptions = {}) {
    this.#d = d;
    this.#ready = options.ready ?? Promise.resolve();
    this.#ready.catch(() => {});
    this.#close = options.close ?? (() => d.destroy());
    d.on("data", (b: Uint8Array) => {
      this.#chunks.push(b);
      if (this.#chunks.length > 16) d.pause();
      this.#wake();
    });
    d.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    d.on("error", (e: Error) => {
      this.#error = e;
      this.#wake();
    });
    d.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    await this.#ready;
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((r) => this.#waiter = r);
    }
    const head = this.#chunks[0]!;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n < head.length) this.#chunks[0] = head.subarray(n);
    else this.#chunks.shift();
    if (this.#chunks.length <= 4) this.#d.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#d.destroyed || this.#d.writableEnded) {
      return Promise.reject(new Deno.errors.BrokenPipe("stream closed"));
    }
    const copy = p.slice();
    return new Promise((resolve, reject) => {
      this.#d.write(copy, (e?: Error | null) => e ? reject(e) : resolve(copy.length));
    });
  }

  closeWrite(): Promise<void> {
    if (this.#d.writableEnded || this.#d.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.#d.end(resolve));
  }

  close(): void {
    if (this.#d.destroyed) return;
    this.#close();
  }
}

/** A node `Duplex` reading and writing a {@linkcode Stream}. */
export class StreamDuplex extends Duplex {
  #s: Stream;
  #pumping = false;
  /** When bytes last arrived (`performance.now()`, ms): read silence for HTTP/2 PINGs. */
  lastRead = performance.now();

  constructor(s: Stream) {
    super({ allowHalfOpen: true });
    this.#s = s;
  }

  override _read(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump();
  }

  async #pump(): Promise<void> {
    for (;;) {
      const b = new Uint8Array(64 * 1024);
      let n: number | null;
      try {
        n = await this.#s.read(b);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      if (n === null) {
        this.push(null);
        return;
      }
      this.lastRead = performance.now();
      if (!this.push(b.subarray(0, n))) {
        this.#pumping = false;
        return;
      }
    }
  }

  override _write(chunk: Uint8Array, _enc: string, cb: (e?: Error | null) => void): void {
    writeAll(this.#s, chunk).then(() => cb(), (e) => cb(e));
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#s.closeWrite().then(() => cb(), () => cb());
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    try {
      this.#s.close();
    } catch { /* closed */ }
    cb(err);
  }
}
