/**
 * The Mux.Cool server behind VMess/VLESS command 3 (sing-vmess `mux.go`): reads frames from the
 * decrypted stream and routes each session, TCP sessions as streams and UDP sessions (XUDP) as
 * packet connections whose datagrams carry their own addresses, so one association reaches many
 * peers ("full-cone"). Mux.Cool has no flow control: when a TCP session has
 * {@linkcode MAX_SESSION_BUFFER} bytes unread, reading the carrying connection pauses.
 *
 * @module
 */
import type {
  ConnectionRouter,
  Metadata,
  Packet,
  PacketConn,
  Socksaddr,
  Stream,
} from "../../adapter/types.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { errorMessage } from "../../common/errors.ts";
import { writeAll } from "../../common/prefixed_stream.ts";
import {
  decodeMuxCoolFrame,
  encodeMuxCoolFrame,
  type MuxCoolFrame,
  NETWORK_TCP,
  NETWORK_UDP,
  OPTION_DATA,
  OPTION_ERROR,
  STATUS_END,
  STATUS_KEEP,
  STATUS_NEW,
} from "./frame.ts";

/** Unread bytes of one TCP session before the carrying connection stops being read. */
export const MAX_SESSION_BUFFER = 1 << 20;
/** Unread datagrams of one UDP session before the oldest is dropped. */
export const MAX_SESSION_PACKETS = 256;
/** Largest data section written in one frame, bytes. */
const MAX_FRAME_DATA = 0xffff;

/** Serialized frame writer shared by the sessions of one connection. */
class FrameWriter {
  #conn: Stream;
  #chain: Promise<void> = Promise.resolve();
  constructor(conn: Stream) {
    this.#conn = conn;
  }
  send(f: MuxCoolFrame): Promise<void> {
    const wire = encodeMuxCoolFrame(f);
    const run = this.#chain.then(() => writeAll(this.#conn, wire));
    this.#chain = run.catch(() => {});
    return run;
  }
}

/** Common state of a session: queued input, one waiter, end-of-input and the End frame. */
abstract class Session<T> {
  protected items: T[] = [];
  protected waiter: (() => void) | null = null;
  protected drained: (() => void) | null = null;
  remoteEnded = false;
  #endSent = false;
  constructor(readonly id: number, protected readonly writer: FrameWriter, readonly forget: () => void) {}

  protected wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The peer's End frame (or the connection's end): input is over. */
  end(): void {
    this.remoteEnded = true;
    this.wake();
    this.drained?.();
  }

  protected async next(): Promise<T | null> {
    while (!this.items.length) {
      if (this.remoteEnded) return null;
      await new Promise<void>((r) => this.waiter = r);
    }
    return this.items.shift()!;
  }

  /** Sends End once. */
  protected sendEnd(): Promise<void> {
    if (this.#endSent) return Promise.resolve();
    this.#endSent = true;
    this.forget();
    return this.writer.send({ sessionId: this.id, status: STATUS_END, option: 0 }).catch(() => {});
  }

  get endSent(): boolean {
    return this.#endSent;
  }
}

/** A TCP session as a {@linkcode Stream}. */
class TcpSession extends Session<Uint8Array> implements Stream {
  #buffered = 0;

  /** Queues data; resolves when the session has room again (backpressure on the read loop). */
  push(data: Uint8Array): Promise<void> {
    if (this.remoteEnded) return Promise.resolve();
    this.items.push(data.slice());
    this.#buffered += data.length;
    this.wake();
    if (this.#buffered <= MAX_SESSION_BUFFER) return Promise.resolve();
    return new Promise<void>((r) => this.drained = r);
  }

  async read(p: Uint8Array): Promise<number | null> {
    const head = await this.next();
    if (!head) return null;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n < head.length) this.items.unshift(head.subarray(n));
    this.#buffered -= n;
    if (this.#buffered <= MAX_SESSION_BUFFER / 2) {
      const d = this.drained;
      this.drained = null;
      d?.();
    }
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    if (this.endSent) throw new Deno.errors.BrokenPipe("mux.cool session is closed");
    for (let o = 0; o < p.length; o += MAX_FRAME_DATA) {
      const data = p.subarray(o, Math.min(p.length, o + MAX_FRAME_DATA));
      await this.writer.send({ sessionId: this.id, status: STATUS_KEEP, option: OPTION_DATA, data });
    }
    return p.length;
  }

  /** Mux.Cool has no half-close: ending our side ends the session. */
  closeWrite(): Promise<void> {
    return this.sendEnd();
  }

  close(): void {
    this.end();
    this.sendEnd();
  }
}

/** A UDP (XUDP) session as a {@linkcode PacketConn}. */
class UdpSession extends Session<Packet> implements PacketConn {
  constructor(id: number, writer: FrameWriter, forget: () => void, readonly destination: Socksaddr) {
    super(id, writer, forget);
  }

  push(p: Packet): void {
    if (this.remoteEnded) return;
    if (this.items.length >= MAX_SESSION_PACKETS) this.items.shift();
    this.items.push(p);
    this.wake();
  }

  readPacket(): Promise<Packet | null> {
    return this.next();
  }

  async writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    if (this.endSent) throw new Deno.errors.BadResource("mux.cool session is closed");
    await this.writer.send({
      sessionId: this.id,
      status: STATUS_KEEP,
      option: OPTION_DATA,
      target: { network: NETWORK_UDP, address: addr },
      data,
    });
  }

  close(): void {
    this.end();
    this.sendEnd();
  }
}

/**
 * Serves Mux.Cool sessions on `conn` (already past the VMess/VLESS request; `queue` holds bytes
 * read beyond it) until the connection ends. `base` is the carrying connection's metadata.
 * A malformed frame ends the connection; `onError` hears about it.
 */
export async function serveMuxCool(
  conn: Stream,
  router: ConnectionRouter,
  base: Omit<Metadata, "network" | "destination">,
  onError: (e: string) => void = () => {},
  queue: ByteQueue = new ByteQueue(64 * 1024),
): Promise<void> {
  const writer = new FrameWriter(conn);
  const sessions = new Map<number, TcpSession | UdpSession>();
  try {
    for (;;) {
      const d = decodeMuxCoolFrame(queue.peek());
      if (!d) {
        const n = await conn.read(queue.reserve(64 * 1024));
        if (n === null) break;
        queue.commit(n);
        continue;
      }
      const f = d.value;
      // Copy the data out before consuming: the queue may reuse its buffer.
      const data = f.data?.slice();
      queue.consume(d.length);
      let s = sessions.get(f.sessionId);
      if (f.status === STATUS_NEW) {
        s?.end();
        const opened = openSession(f, writer, router, base, onError, () => {
          if (sessions.get(f.sessionId) === opened) sessions.delete(f.sessionId);
        });
        if (!opened) continue;
        sessions.set(f.sessionId, opened);
        s = opened;
      } else if (f.status === STATUS_END) {
        s?.end();
        sessions.delete(f.sessionId);
        continue;
      } else if (f.status === STATUS_KEEP && !s) {
        await writer.send({ sessionId: f.sessionId, status: STATUS_END, option: OPTION_ERROR }).catch(
          () => {},
        );
        continue;
      }
      if (!s || !data) continue;
      if (s instanceof TcpSession) await s.push(data);
      else s.push({ data, addr: f.target?.address ?? s.destination });
    }
  } catch (e) {
    onError(errorMessage(e));
  } finally {
    for (const s of sessions.values()) s.end();
    sessions.clear();
    conn.close();
  }
}

/** Creates and routes the session a New frame asks for; `null` for a frame without a target. */
function openSession(
  f: MuxCoolFrame,
  writer: FrameWriter,
  router: ConnectionRouter,
  base: Omit<Metadata, "network" | "destination">,
  onError: (e: string) => void,
  forget: () => void,
): TcpSession | UdpSession | null {
  if (!f.target) {
    onError(`session ${f.sessionId}: New frame without a target`);
    return null;
  }
  const destination = f.target.address;
  if (f.target.network === NETWORK_TCP) {
    const s = new TcpSession(f.sessionId, writer, forget);
    router.routeConnection(s, { ...base, network: "tcp", destination }).finally(() => s.close());
    return s;
  }
  const s = new UdpSession(f.sessionId, writer, forget, destination);
  router.routePacketConnection(s, { ...base, network: "udp", destination }).finally(() => s.close());
  return s;
}
