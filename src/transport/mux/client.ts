/**
 * The sing-mux client (SagerNet/sing-mux `client.go`): a pool of multiplexed connections, each
 * opened by dialing {@linkcode MUX_DESTINATION} through the proxy protocol, starting with the
 * session request (and padding when enabled). Connection choice follows sing-mux: the session
 * with the fewest streams is reused when it is idle, when `max_connections` is reached or it has
 * fewer than `min_streams`, or (without `max_connections`) while it has fewer than `max_streams`;
 * otherwise a new connection is opened.
 *
 * @module
 */
import type { Packet, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream, type StreamDecoder, type StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import { writeAll } from "../../common/prefixed_stream.ts";
import { decodeSocksAddr, encodeSocksAddr } from "../../common/socks_addr.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import {
  decodeStreamResponse,
  encodeMuxRequest,
  encodeStreamRequest,
  MUX_DESTINATION,
  type MuxProtocol,
  PaddingDecoder,
  PaddingEncoder,
  PROTOCOL,
} from "./protocol.ts";
import { type MultiplexSession, newSession } from "./session.ts";
import { encodeU16Prefixed, readU16Prefixed } from "../../common/length_prefix.ts";

/** Client options (sing-box outbound `multiplex{}`). */
export interface MuxClientOptions {
  protocol: MuxProtocol;
  maxConnections?: number;
  minStreams?: number;
  maxStreams?: number;
  padding?: boolean;
}

class Identity implements StreamEncoder {
  encode(p: Uint8Array): Uint8Array {
    return p;
  }
}

/** Reads the stream response first; a failure status becomes an error naming the server's message. */
export class StreamResponseDecoder implements StreamDecoder {
  #ok = false;
  decode(q: ByteQueue): Uint8Array | null {
    if (!this.#ok) {
      const r = decodeStreamResponse(q.peek());
      if (!r) return null;
      q.consume(r.length);
      if (r.value.status !== 0) throw new Error(`mux remote error: ${r.value.message}`);
      this.#ok = true;
    }
    return q.length ? q.take(q.length) : null;
  }
}

/**
 * Packet-address framing of a mux UDP stream: each packet is a SOCKS address, a big-endian u16
 * length and the data; the first bytes from the server are the stream response.
 */
export function packetAddrFraming(expectResponse: boolean) {
  let ok = !expectResponse;
  return {
    encode: (data: Uint8Array, addr: Socksaddr) => encodeU16Prefixed(encodeSocksAddr(addr), data),
    decode(q: ByteQueue): Packet | null {
      if (!ok) {
        const r = decodeStreamResponse(q.peek());
        if (!r) return null;
        q.consume(r.length);
        if (r.value.status !== 0) throw new ProtocolError("sing-mux", 0, `remote error: ${r.value.message}`);
        ok = true;
      }
      const buf = q.peek();
      const a = decodeSocksAddr(buf, 0, "sing-mux");
      const p = a && readU16Prefixed(buf, a.length);
      if (!p) return null;
      const data = p.data.slice();
      q.consume(p.end);
      return { data, addr: a.value };
    },
  };
}

/** A pool of sing-mux sessions. */
export class MuxClient {
  #o: MuxClientOptions;
  #connect: () => Promise<Stream>;
  #sessions: MultiplexSession[] = [];
  #offering: Promise<unknown> = Promise.resolve();
  #minStreams: number;

  /** `connect` dials {@linkcode MUX_DESTINATION} through the proxy protocol. */
  constructor(o: MuxClientOptions, connect: () => Promise<Stream>) {
    this.#o = o;
    this.#connect = connect;
    this.#minStreams = o.minStreams ?? 0;
    if (!o.maxStreams && !o.maxConnections) this.#minStreams = 8;
  }

  /** Live sessions (for tests and metrics). */
  get sessions(): number {
    return this.#sessions.filter((s) => !s.isClosed).length;
  }

  async #offer(): Promise<MultiplexSession> {
    this.#sessions = this.#sessions.filter((s) => !s.isClosed);
    const sessions = this.#sessions;
    const best = sessions.reduce<MultiplexSession | null>(
      (a, s) => !a || s.numStreams < a.numStreams ? s : a,
      null,
    );
    if (best) {
      const n = best.numStreams;
      if (n === 0) return best;
      const { maxConnections = 0, maxStreams = 0 } = this.#o;
      if (maxConnections > 0) {
        if (sessions.length >= maxConnections || n < this.#minStreams) return best;
      } else if (maxStreams > 0 && n < maxStreams) return best;
    }
    return await this.#offerNew();
  }

  async #offerNew(): Promise<MultiplexSession> {
    const conn = await this.#connect();
    const padding = this.#o.padding ?? false;
    try {
      await writeAll(
        conn,
        encodeMuxRequest({ version: padding ? 1 : 0, protocol: PROTOCOL[this.#o.protocol], padding }),
      );
    } catch (e) {
      conn.close();
      throw e;
    }
    const inner = padding ? new CodecStream(conn, new PaddingEncoder(), new PaddingDecoder()) : conn;
    let session: MultiplexSession;
    try {
      session = await newSession(this.#o.protocol, inner, true);
    } catch (e) {
      inner.close();
      throw e;
    }
    this.#sessions.push(session);
    return session;
  }

  async #openStream() {
    let last: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const run = this.#offering.then(() => this.#offer());
        this.#offering = run.catch(() => {});
        return (await run).open();
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /** Opens a TCP stream to `destination`; the stream request goes out with the first write or read. */
  async dial(destination: Socksaddr): Promise<Stream> {
    const s = await this.#openStream();
    return new CodecStream(s, new Identity(), new StreamResponseDecoder(), {
      rawPrefix: encodeStreamRequest({ network: "tcp", destination, packetAddr: false }),
    });
  }

  /** Opens a UDP stream whose packets carry addresses (sing-mux `ListenPacket`). */
  async listenPacket(destination: Socksaddr): Promise<PacketConn> {
    const s = await this.#openStream();
    return new StreamPacketConn(
      s,
      packetAddrFraming(true),
      encodeStreamRequest({ network: "udp", destination, packetAddr: true }),
    );
  }

  /** Closes every session. */
  close(): void {
    for (const s of this.#sessions) s.close();
    this.#sessions = [];
  }
}

export { MUX_DESTINATION };
