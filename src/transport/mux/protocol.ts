/**
 * sing-mux framing (SagerNet/sing-mux `protocol.go`, `padding.go`), sans-I/O:
 *
 * - Session request, first bytes of a multiplexed connection: `version` (0, or 1 with padding
 *   support), `protocol` (0 smux, 1 yamux, 2 h2mux); version 1 adds `padding` (bool byte) and,
 *   when set, a big-endian u16 length and that many padding bytes.
 * - Stream request, first bytes of each stream: big-endian u16 flags (1 UDP, 2 packet address)
 *   then the destination as a SOCKS5 address (ATYP, address, big-endian port).
 * - Stream response, first bytes the server sends on a stream: status 0 (success) or 1 (error,
 *   followed by a uvarint-length message).
 * - Padding: with `padding` on, the first 16 writes in each direction are records of big-endian
 *   u16 data length, u16 padding length (256..767), data, zero padding; then raw bytes.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type Decoded, decodeSocksAddr, encodeSocksAddr } from "../../common/socks_addr.ts";

/** The destination a client dials through its proxy to reach the server's mux service. */
export const MUX_DESTINATION: Socksaddr = { host: "sp.mux.sing-box.arpa", port: 444 };

/** `protocol` byte values. */
export const PROTOCOL = { smux: 0, yamux: 1, h2mux: 2 } as const;
/** Names by `protocol` byte. */
export type MuxProtocol = keyof typeof PROTOCOL;

/** Stream request flag: UDP. */
export const FLAG_UDP = 1;
/** Stream request flag: each UDP packet carries its address. */
export const FLAG_ADDR = 2;
/** Stream response status. */
export const STATUS_SUCCESS = 0;
/** Stream response status, followed by a message. */
export const STATUS_ERROR = 1;
/** Records padded in each direction. */
export const FIRST_PADDINGS = 16;

/** Session request. */
export interface MuxRequest {
  version: 0 | 1;
  protocol: number;
  padding: boolean;
}

/** Random padding length used by sing-mux: 256..767 bytes. */
export function randomPaddingLength(): number {
  return 256 + Math.floor(Math.random() * 512);
}

/** Encodes a session request; `paddingLength` defaults to a random 256..767 when padding. */
export function encodeMuxRequest(r: MuxRequest, paddingLength = randomPaddingLength()): Uint8Array {
  if (r.version === 0) return new Uint8Array([0, r.protocol]);
  if (!r.padding) return new Uint8Array([1, r.protocol, 0]);
  const out = new Uint8Array(5 + paddingLength);
  out.set([1, r.protocol, 1, paddingLength >> 8, paddingLength & 0xff]);
  return out;
}

/**
 * Decodes a session request (and skips its padding).
 *
 * @throws {ProtocolError} On a version other than 0 or 1 or a padding byte other than 0/1.
 */
export function decodeMuxRequest(buf: Uint8Array): Decoded<MuxRequest> {
  if (buf.length < 2) return null;
  const version = buf[0];
  if (version > 1) throw new ProtocolError("sing-mux", 0, `unsupported version ${version}`);
  if (version === 0) return { value: { version: 0, protocol: buf[1], padding: false }, length: 2 };
  if (buf.length < 3) return null;
  if (buf[2] > 1) throw new ProtocolError("sing-mux", 2, `bad padding flag ${buf[2]}`);
  if (buf[2] === 0) return { value: { version: 1, protocol: buf[1], padding: false }, length: 3 };
  if (buf.length < 5) return null;
  const len = (buf[3] << 8) | buf[4];
  if (buf.length < 5 + len) return null;
  return { value: { version: 1, protocol: buf[1], padding: true }, length: 5 + len };
}

/** Stream request. */
export interface StreamRequest {
  network: "tcp" | "udp";
  destination: Socksaddr;
  /** UDP only: packets carry addresses (sing-box `ListenPacket`). */
  packetAddr: boolean;
}

/** Encodes a stream request. */
export function encodeStreamRequest(r: StreamRequest): Uint8Array {
  let flags = r.network === "udp" ? FLAG_UDP : 0;
  if (r.packetAddr) flags |= FLAG_ADDR;
  const addr = encodeSocksAddr(r.destination);
  const out = new Uint8Array(2 + addr.length);
  out[0] = flags >> 8;
  out[1] = flags & 0xff;
  out.set(addr, 2);
  return out;
}

/**
 * Decodes a stream request.
 *
 * @throws {ProtocolError} On a bad address type.
 */
export function decodeStreamRequest(buf: Uint8Array): Decoded<StreamRequest> {
  if (buf.length < 2) return null;
  const flags = (buf[0] << 8) | buf[1];
  const a = decodeSocksAddr(buf, 2, "sing-mux");
  if (!a) return null;
  const udp = (flags & FLAG_UDP) !== 0;
  return {
    value: {
      network: udp ? "udp" : "tcp",
      destination: a.value,
      packetAddr: udp && (flags & FLAG_ADDR) !== 0,
    },
    length: 2 + a.length,
  };
}

/** Encodes a stream response (the message only with an error status). */
export function encodeStreamResponse(status: number, message = ""): Uint8Array {
  if (status === STATUS_SUCCESS) return new Uint8Array([0]);
  const m = new TextEncoder().encode(message);
  const len: number[] = [];
  let n = m.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  const out = new Uint8Array(1 + len.length + m.length);
  out[0] = status;
  out.set(len, 1);
  out.set(m, 1 + len.length);
  return out;
}

/**
 * Decodes a stream response: `{status, message}`.
 *
 * @throws {ProtocolError} On an unknown status or a bad message length.
 */
export function decodeStreamResponse(buf: Uint8Array): Decoded<{ status: number; message: string }> {
  if (buf.length < 1) return null;
  if (buf[0] === STATUS_SUCCESS) return { value: { status: 0, message: "" }, length: 1 };
  if (buf[0] !== STATUS_ERROR) throw new ProtocolError("sing-mux", 0, `unknown stream status ${buf[0]}`);
  let n = 0, shift = 0, o = 1;
  for (;;) {
    if (o >= buf.length) return null;
    if (o > 5) throw new ProtocolError("sing-mux", o, "bad message length");
    const b = buf[o++];
    n += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (n > 65535) throw new ProtocolError("sing-mux", 1, `message length ${n} is too long`);
  if (buf.length < o + n) return null;
  return { value: { status: 1, message: new TextDecoder().decode(buf.subarray(o, o + n)) }, length: o + n };
}

/** Pads the first {@linkcode FIRST_PADDINGS} writes (split at 65535 bytes), then passes bytes through. */
export class PaddingEncoder implements StreamEncoder {
  #count = 0;
  #pad: () => number;

  /** `pad` chooses each padding length (tests pass a constant). */
  constructor(pad: () => number = randomPaddingLength) {
    this.#pad = pad;
  }

  encode(p: Uint8Array): Uint8Array {
    if (this.#count >= FIRST_PADDINGS || !p.length) return p;
    const parts: Uint8Array[] = [];
    for (let o = 0; o < p.length; o += 65535) {
      const data = p.subarray(o, Math.min(p.length, o + 65535));
      if (this.#count >= FIRST_PADDINGS) {
        parts.push(p.subarray(o));
        break;
      }
      const pad = this.#pad();
      const rec = new Uint8Array(4 + data.length + pad);
      rec.set([data.length >> 8, data.length & 0xff, pad >> 8, pad & 0xff]);
      rec.set(data, 4);
      parts.push(rec);
      this.#count++;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
    let off = 0;
    for (const x of parts) {
      out.set(x, off);
      off += x.length;
    }
    return out;
  }
}

/** Removes the padding of the first {@linkcode FIRST_PADDINGS} records. */
export class PaddingDecoder implements StreamDecoder {
  #count = 0;
  #dataLeft = 0;
  #padLeft = 0;

  decode(q: ByteQueue): Uint8Array | null {
    for (;;) {
      if (this.#dataLeft > 0) {
        if (!q.length) return null;
        const n = Math.min(this.#dataLeft, q.length);
        this.#dataLeft -= n;
        return q.take(n);
      }
      if (this.#padLeft > 0) {
        const n = Math.min(this.#padLeft, q.length);
        q.consume(n);
        this.#padLeft -= n;
        if (this.#padLeft > 0) return null;
      }
      if (this.#count >= FIRST_PADDINGS) return q.length ? q.take(q.length) : null;
      if (q.length < 4) return null;
      const h = q.take(4);
      this.#dataLeft = (h[0] << 8) | h[1];
      this.#padLeft = (h[2] << 8) | h[3];
      this.#count++;
    }
  }
}
