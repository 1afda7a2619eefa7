/**
 * WebSocket framing (RFC 6455 §5), sans-I/O: binary data frames out, data frames in; pings are
 * answered with pongs through {@linkcode WsFrameDecoder.takeReply}, a close frame ends the stream.
 *
 * @module
 */
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Largest frame payload accepted. */
export const WS_MAX_FRAME = 16 * 1024 * 1024;

/** XORs `p` with the 4-byte mask (RFC 6455 §5.3), a word at a time where aligned. */
export function xorMask(p: Uint8Array, mask: Uint8Array): void {
  const n = p.length;
  let i = 0;
  while (i < n && (p.byteOffset + i) % 4 !== 0) {
    p[i] ^= mask[i & 3];
    i++;
  }
  const words = (n - i) >> 2;
  if (words > 0) {
    const m = new Uint8Array(4);
    for (let k = 0; k < 4; k++) m[k] = mask[(i + k) & 3];
    const m32 = new Uint32Array(m.buffer)[0];
    const w = new Uint32Array(p.buffer, p.byteOffset + i, words);
    for (let k = 0; k < words; k++) w[k] ^= m32;
    i += words << 2;
  }
  for (; i < n; i++) p[i] ^= mask[i & 3];
}

/** Writes a frame header into `out`; returns its length. */
function writeHeader(out: Uint8Array, opcode: number, len: number, mask: Uint8Array | null): number {
  out[0] = 0x80 | opcode;
  const m = mask ? 0x80 : 0;
  let o: number;
  if (len < 126) {
    out[1] = m | len;
    o = 2;
  } else if (len < 65536) {
    out[1] = m | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    o = 4;
  } else {
    out[1] = m | 127;
    new DataView(out.buffer, out.byteOffset).setBigUint64(2, BigInt(len));
    o = 10;
  }
  if (mask) {
    out.set(mask, o);
    o += 4;
  }
  return o;
}

/** Encodes one frame (`masked` for client-to-server). */
export function encodeFrame(opcode: number, payload: Uint8Array, masked: boolean): Uint8Array {
  const mask = masked ? crypto.getRandomValues(new Uint8Array(4)) : null;
  const out = new Uint8Array(14 + payload.length);
  const h = writeHeader(out, opcode, payload.length, mask);
  out.set(payload, h);
  if (mask) xorMask(out.subarray(h, h + payload.length), mask);
  return out.subarray(0, h + payload.length);
}

/** Encodes writes as binary frames. */
export class WsFrameEncoder implements StreamEncoder {
  #masked: boolean;
  #out = new Uint8Array(0);
  constructor(masked: boolean) {
    this.#masked = masked;
  }
  encode(p: Uint8Array): Uint8Array {
    if (p.length === 0) return p;
    if (this.#out.length < p.length + 14) this.#out = new Uint8Array(Math.max(p.length + 14, 64 * 1024));
    const mask = this.#masked ? crypto.getRandomValues(new Uint8Array(4)) : null;
    const h = writeHeader(this.#out, OP_BINARY, p.length, mask);
    this.#out.set(p, h);
    if (mask) xorMask(this.#out.subarray(h, h + p.length), mask);
    return this.#out.subarray(0, h + p.length);
  }
  finish(): Uint8Array {
    return encodeFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8]), this.#masked);
  }
}

/** Decodes frames; returns data-frame payloads. */
export class WsFrameDecoder implements StreamDecoder {
  #masked: boolean;
  #reply: Uint8Array[] = [];
  done = false;
  /** `expectMasked`: frames from a client must be masked. `replyMasked`: mask our pongs. */
  constructor(readonly expectMasked: boolean, replyMasked = !expectMasked) {
    this.#masked = replyMasked;
  }

  /** Control replies (pong, close echo) to put on the wire as they are. */
  takeReply(): Uint8Array | null {
    return this.#reply.shift() ?? null;
  }

  decode(q: ByteQueue): Uint8Array | null {
    for (;;) {
      if (this.done || q.length < 2) return null;
      const b = q.peek(14);
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let o = 2;
      if (len === 126) {
        if (b.length < 4) return null;
        len = (b[2] << 8) | b[3];
        o = 4;
      } else if (len === 127) {
        if (b.length < 10) return null;
        const big = new DataView(b.buffer, b.byteOffset).getBigUint64(2);
        if (big > BigInt(WS_MAX_FRAME)) {
          throw new ProtocolError("websocket", 2, `frame of ${big} bytes is too large`);
        }
        len = Number(big);
        o = 10;
      }
      if ((b[0] & 0x70) !== 0) throw new ProtocolError("websocket", 0, "reserved bits set");
      if (masked !== this.expectMasked && this.expectMasked) {
        throw new ProtocolError("websocket", 1, "client frame is not masked");
      }
      const maskLen = masked ? 4 : 0;
      if (q.length < o + maskLen + len) return null;
      const head = q.take(o + maskLen);
      const mask = masked ? head.slice(o, o + 4) : null;
      const payload = q.take(len);
      if (mask) xorMask(payload, mask);
      switch (opcode) {
        case OP_BINARY:
        case OP_TEXT:
        case OP_CONTINUATION:
          if (len === 0) continue;
          return payload;
        case OP_PING:
          this.#reply.push(encodeFrame(OP_PONG, payload, this.#masked));
          continue;
        case OP_PONG:
          continue;
        case OP_CLOSE:
          this.done = true;
          return null;
        default:
          throw new ProtocolError("websocket", 0, `unknown opcode ${opcode}`);
      }
    }
  }
}
