/**
 * smux and yamux sessions over one {@linkcode Stream} (h2mux lives in `h2mux.ts`; `newSession`
 * picks by protocol): the frame codecs in `smux.ts` and
 * `yamux.ts` driven by a read loop, with serialized writes, per-stream receive buffers bounded by
 * a session-wide budget (smux version 1 has no flow control; reading the connection pauses, as
 * in smux) and yamux's per-stream send and receive windows. Neither side sends keepalives; yamux
 * pings are answered. Half-close: `closeWrite()` sends FIN (yamux: a window update with FIN).
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { writeAll } from "../../common/prefixed_stream.ts";
import { H2MuxClientSession, H2MuxServerSession } from "./h2mux.ts";
import type { MuxProtocol } from "./protocol.ts";
import { decodeSmuxFrame, encodeSmuxFrame, SMUX_CMD, SMUX_MAX_FRAME } from "./smux.ts";
import { decodeYamuxFrame, encodeYamuxFrame, YAMUX_FLAG, YAMUX_INITIAL_WINDOW, YAMUX_TYPE } from "./yamux.ts";

/** Bytes received but not yet read, summed over a session, before reading the connection pauses. */
export const MAX_SESSION_BUFFER = 4 << 20;

type Waiter = () => void;

/** One multiplexed stream. */
export class MuxStream implements Stream {
  readonly id: number;
  #session: MuxSession;
  #chunks: Uint8Array[] = [];
  #waiter: Waiter | null = null;
  remoteFin = false;
  localFin = false;
  closed = false;
  error: Error | null = null;
  /** yamux: bytes we may still send. */
  sendWindow = YAMUX_INITIAL_WINDOW;
  /** yamux: bytes the peer may still send. */
  recvWindow = YAMUX_INITIAL_WINDOW;
  /** yamux: bytes read since the last window update. */
  consumed = 0;
  windowWaiter: Waiter | null = null;

  constructor(session: MuxSession, id: number) {
    this.#session = session;
    this.id = id;
  }

  /** Data from the peer. */
  push(data: Uint8Array): void {
    if (this.closed) return;
    this.#chunks.push(data);
    this.wake();
  }

  wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
    const ww = this.windowWaiter;
    this.windowWaiter = null;
    ww?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (!this.#chunks.length) {
      if (this.error) throw this.error;
      if (this.remoteFin || this.closed) return null;
      await new Promise<void>((r) => this.#waiter = r);
    }
    const head = this.#chunks[0];
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n < head.length) this.#chunks[0] = head.subarray(n);
    else this.#chunks.shift();
    this.#session.onConsumed(this, n);
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.error) throw this.error;
    if (this.localFin || this.closed) throw new Deno.errors.BrokenPipe("mux stream is closed for writing");
    await this.#session.writeData(this, p);
    return p.length;
  }

  async closeWrite(): Promise<void> {
    if (this.localFin || this.closed) return;
    this.localFin = true;
    await this.#session.sendFin(this).catch(() => {});
  }

  close(): void {
    if (this.closed) return;
    if (!this.localFin) {
      this.localFin = true;
      this.#session.sendFin(this).catch(() => {});
    }
    this.closed = true;
    this.#session.onConsumed(this, this.#chunks.reduce((a, c) => a + c.length, 0));
    this.#chunks = [];
    this.#session.forget(this);
    this.wake();
  }
}

/** A multiplexed session (smux v1 or yamux) over `conn`. */
export abstract class MuxSession {
  protected conn: Stream;
  protected streams = new Map<number, MuxStream>();
  protected nextId: number;
  #accepted: MuxStream[] = [];
  #acceptWaiter: Waiter | null = null;
  #sending: Promise<void> = Promise.resolve();
  #buffered = 0;
  #bufferWaiter: Waiter | null = null;
  #closed = false;
  protected goAway = false;
  /** Resolves when the read loop has ended. */
  readonly done: Promise<void>;

  constructor(conn: Stream, client: boolean, firstClientId: number, firstServerId: number) {
    this.conn = conn;
    this.nextId = client ? firstClientId : firstServerId;
    this.done = this.#readLoop();
  }

  /** Open streams. */
  get numStreams(): number {
    return this.streams.size;
  }

  /** True once the connection failed, was closed, or the peer said go-away. */
  get isClosed(): boolean {
    return this.#closed || this.goAway;
  }

  /** Opens a stream. @throws {Error} If the session is closed. */
  abstract open(): MuxStream;
  /** Decodes and handles one frame from `q`; false when more bytes are needed. */
  protected abstract handle(q: ByteQueue): boolean;
  abstract writeData(s: MuxStream, p: Uint8Array): Promise<void>;
  abstract sendFin(s: MuxStream): Promise<void>;
  /** yamux: a window update after reads. */
  protected abstract afterConsumed(s: MuxStream, n: number): void;

  /** Waits for the next stream the peer opens; `null` once the session is closed. */
  async accept(): Promise<MuxStream | null> {
    while (!this.#accepted.length) {
      if (this.#closed) return null;
      await new Promise<void>((r) => this.#acceptWaiter = r);
    }
    return this.#accepted.shift()!;
  }

  protected incoming(s: MuxStream): void {
    this.streams.set(s.id, s);
    this.#accepted.push(s);
    const w = this.#acceptWaiter;
    this.#acceptWaiter = null;
    w?.();
  }

  protected deliver(s: MuxStream, data: Uint8Array): void {
    if (!data.length) return;
    this.#buffered += data.length;
    s.push(data.slice());
  }

  /** Called by a stream for bytes its reader took. */
  onConsumed(s: MuxStream, n: number): void {
    this.#buffered -= n;
    if (this.#buffered < MAX_SESSION_BUFFER) {
      const w = this.#bufferWaiter;
      this.#bufferWaiter = null;
      w?.();
    }
    if (n > 0 && !s.closed) this.afterConsumed(s, n);
  }

  forget(s: MuxStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
  }

  /** Ends a stream once both directions have finished. */
  protected maybeForget(s: MuxStream): void {
    if (s.localFin && s.remoteFin) this.forget(s);
  }

  /** Queues wire bytes; writes never interleave. */
  send(bytes: Uint8Array): Promise<void> {
    const run = this.#sending.then(() => {
      if (this.#closed) throw new Deno.errors.BrokenPipe("mux session is closed");
      return writeAll(this.conn, bytes);
    });
    this.#sending = run.catch(() => this.close());
    return run;
  }

  async #readLoop(): Promise<void> {
    const q = new ByteQueue(64 * 1024);
    try {
      for (;;) {
        while (q.length && this.handle(q));
        while (this.#buffered >= MAX_SESSION_BUFFER && !this.#closed) {
          await new Promise<void>((r) => this.#bufferWaiter = r);
        }
        if (this.#closed) return;
        const n = await this.conn.read(q.reserve(64 * 1024));
        if (n === null) return;
        q.commit(n);
      }
    } catch {
      // A read error or malformed frame ends the session.
    } finally {
      this.close();
    }
  }

  /** Closes the session and fails its open streams. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
    const err = new Deno.errors.ConnectionReset("mux session closed");
    for (const s of this.streams.values()) {
      if (!s.remoteFin) s.error = err;
      s.wake();
    }
    this.streams.clear();
    this.#acceptWaiter?.();
    this.#bufferWaiter?.();
  }
}

/** smux protocol version 1. */
export class SmuxSession extends MuxSession {
  constructor(conn: Stream, client: boolean) {
    super(conn, client, 3, 2);
  }

  open(): MuxStream {
    if (this.isClosed) throw new Deno.errors.BrokenPipe("mux session is closed");
    const s = new MuxStream(this, this.nextId);
    this.nextId += 2;
    this.streams.set(s.id, s);
    this.send(encodeSmuxFrame(SMUX_CMD.SYN, s.id)).catch(() => {});
    return s;
  }

  protected handle(q: ByteQueue): boolean {
    const r = decodeSmuxFrame(q.peek());
    if (!r) return false;
    const { cmd, sid, data } = r.value;
    const s = this.streams.get(sid);
    if (cmd === SMUX_CMD.SYN) {
      if (!s) this.incoming(new MuxStream(this, sid));
    } else if (cmd === SMUX_CMD.FIN) {
      if (s) {
        s.remoteFin = true;
        s.wake();
        this.maybeForget(s);
      }
    } else if (cmd === SMUX_CMD.PSH && s) {
      this.deliver(s, data);
    }
    q.consume(r.length);
    return true;
  }

  writeData(s: MuxStream, p: Uint8Array): Promise<void> {
    const frames = Math.ceil(p.length / SMUX_MAX_FRAME);
    const out = new Uint8Array(p.length + frames * 8);
    for (let i = 0, o = 0; i < p.length; i += SMUX_MAX_FRAME) {
      const f = encodeSmuxFrame(SMUX_CMD.PSH, s.id, p.subarray(i, i + SMUX_MAX_FRAME));
      out.set(f, o);
      o += f.length;
    }
    return this.send(out);
  }

  sendFin(s: MuxStream): Promise<void> {
    this.maybeForget(s);
    return this.send(encodeSmuxFrame(SMUX_CMD.FIN, s.id));
  }

  protected afterConsumed(): void {}
}

/** yamux with 256 KiB stream windows. */
export class YamuxSession extends MuxSession {
  constructor(conn: Stream, client: boolean) {
    super(conn, client, 1, 2);
  }

  open(): MuxStream {
    if (this.isClosed) throw new Deno.errors.BrokenPipe("mux session is closed");
    const s = new MuxStream(this, this.nextId);
    this.nextId += 2;
    this.streams.set(s.id, s);
    this.send(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.SYN, s.id, 0)).catch(() => {});
    return s;
  }

  protected handle(q: ByteQueue): boolean {
    const r = decodeYamuxFrame(q.peek());
    if (!r) return false;
    const { type, flags, sid, length, data } = r.value;
    if (type === YAMUX_TYPE.PING) {
      if (flags & YAMUX_FLAG.SYN) {
        this.send(encodeYamuxFrame(YAMUX_TYPE.PING, YAMUX_FLAG.ACK, 0, length)).catch(() => {});
      }
    } else if (type === YAMUX_TYPE.GO_AWAY) {
      this.goAway = true;
    } else {
      let s = this.streams.get(sid);
      if (!s && flags & YAMUX_FLAG.SYN) {
        s = new MuxStream(this, sid);
        this.incoming(s);
        this.send(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.ACK, sid, 0)).catch(() => {});
      }
      if (s) {
        if (type === YAMUX_TYPE.WINDOW_UPDATE) {
          s.sendWindow += length;
          s.wake();
        } else {
          if (data.length > s.recvWindow) throw new Error(`yamux stream ${sid} exceeded its receive window`);
          s.recvWindow -= data.length;
          this.deliver(s, data);
        }
        if (flags & YAMUX_FLAG.RST) {
          s.error = new Deno.errors.ConnectionReset("mux stream reset by peer");
          this.forget(s);
          s.wake();
        } else if (flags & YAMUX_FLAG.FIN) {
          s.remoteFin = true;
          s.wake();
          this.maybeForget(s);
        }
      }
    }
    q.consume(r.length);
    return true;
  }

  async writeData(s: MuxStream, p: Uint8Array): Promise<void> {
    let o = 0;
    while (o < p.length) {
      while (s.sendWindow <= 0) {
        if (s.error) throw s.error;
        if (s.closed || this.isClosed) throw new Deno.errors.BrokenPipe("mux stream is closed");
        await new Promise<void>((r) => s.windowWaiter = r);
      }
      const n = Math.min(s.sendWindow, p.length - o, 64 * 1024);
      s.sendWindow -= n;
      await this.send(encodeYamuxFrame(YAMUX_TYPE.DATA, 0, s.id, p.subarray(o, o + n)));
      o += n;
    }
  }

  sendFin(s: MuxStream): Promise<void> {
    this.maybeForget(s);
    return this.send(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, YAMUX_FLAG.FIN, s.id, 0));
  }

  protected afterConsumed(s: MuxStream, n: number): void {
    s.consumed += n;
    if (s.consumed >= YAMUX_INITIAL_WINDOW / 2) {
      const delta = s.consumed;
      s.consumed = 0;
      s.recvWindow += delta;
      this.send(encodeYamuxFrame(YAMUX_TYPE.WINDOW_UPDATE, 0, s.id, delta)).catch(() => {});
    }
  }
}

/** What the mux client pool and server need from a session of any protocol. */
export interface MultiplexSession {
  /** Open streams. */
  readonly numStreams: number;
  /** True once no new streams can be opened. */
  readonly isClosed: boolean;
  /** Opens a stream (client). @throws {Error} If the session is closed. */
  open(): Stream;
  /** The next stream the peer opened (server); `null` once the session is closed. */
  accept(): Promise<Stream | null>;
  close(): void;
}

/**
 * Starts a session for a protocol name over `conn` (after the session request and padding).
 *
 * @throws {Error} If an h2mux connection fails during setup.
 */
export async function newSession(
  protocol: MuxProtocol,
  conn: Stream,
  client: boolean,
): Promise<MultiplexSession> {
  if (protocol === "smux") return new SmuxSession(conn, client);
  if (protocol === "yamux") return new YamuxSession(conn, client);
  return client ? await H2MuxClientSession.connect(conn) : new H2MuxServerSession(conn);
}
