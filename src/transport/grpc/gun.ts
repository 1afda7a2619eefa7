/**
 * The "gun" message codec of the V2Ray `grpc` transport (sing-box `transport/v2raygrpclite`):
 * every write is one gRPC length-prefixed message (RFC-like gRPC over HTTP/2 framing: 1-byte
 * compressed flag `0`, 4-byte big-endian length) whose body is the protobuf message
 * `Hunk { bytes data = 1; }`, i.e. tag byte `0x0A`, a base-128 varint length, then the data.
 * Sans-I/O: pure functions over bytes.
 *
 * @module
 */
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";

/** Protobuf key of field 1, wire type 2 (length-delimited). */
export const HUNK_TAG = 0x0a;
/** Largest gRPC message accepted, bytes (grpc-go's default receive limit is 4 MiB). */
export const MAX_GUN_MESSAGE = 4 << 20;

/** The request path for a service name: `/<service_name>/Tun` (name percent-escaped as a path segment). */
export function grpcPath(serviceName: string): string {
  return `/${encodeURIComponent(serviceName)}/Tun`;
}

/** Bytes a varint of `n` takes. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * Encodes `data` as one gun message (5-byte gRPC prefix + protobuf Hunk).
 *
 * @throws {RangeError} If `data` is longer than {@linkcode MAX_GUN_MESSAGE}.
 */
export function encodeGunMessage(data: Uint8Array): Uint8Array {
  if (data.length > MAX_GUN_MESSAGE) throw new RangeError(`gun message of ${data.length} bytes is too long`);
  const vl = varintLength(data.length);
  const body = 1 + vl + data.length;
  const out = new Uint8Array(5 + body);
  out[0] = 0;
  new DataView(out.buffer).setUint32(1, body);
  out[5] = HUNK_TAG;
  let n = data.length, o = 6;
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  out.set(data, o);
  return out;
}

/**
 * Decodes one gun message from the front of `buf`: `{value: data, length: wire bytes}`, or
 * `null` when more bytes are needed.
 *
 * @throws {ProtocolError} On a compressed message, a length above {@linkcode MAX_GUN_MESSAGE},
 *   a body that is not a single Hunk field 1, or a varint that disagrees with the gRPC length.
 */
export function decodeGunMessage(buf: Uint8Array): { value: Uint8Array; length: number } | null {
  if (buf.length < 5) return null;
  if (buf[0] !== 0) throw new ProtocolError("grpc", 0, `compressed flag ${buf[0]} is not supported`);
  const len = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
  if (len > MAX_GUN_MESSAGE + 16) throw new ProtocolError("grpc", 1, `message length ${len} is too large`);
  if (buf.length < 5 + len) return null;
  if (len === 0) return { value: buf.subarray(5, 5), length: 5 };
  if (buf[5] !== HUNK_TAG) {
    throw new ProtocolError("grpc", 5, `unexpected protobuf key 0x${buf[5].toString(16)}`);
  }
  let n = 0, mul = 1, o = 6;
  for (;;) {
    if (o >= 5 + len || o - 6 >= 5) throw new ProtocolError("grpc", o, "bad protobuf varint");
    const b = buf[o++];
    n += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) break;
  }
  if (o + n !== 5 + len) {
    throw new ProtocolError("grpc", 6, `protobuf length ${n} does not match gRPC length ${len}`);
  }
  return { value: buf.subarray(o, o + n), length: 5 + len };
}

/** {@linkcode StreamEncoder} writing each chunk as one gun message (split at 1 MiB). */
export class GunEncoder implements StreamEncoder {
  encode(p: Uint8Array): Uint8Array {
    if (!p.length) return p;
    if (p.length <= 1 << 20) return encodeGunMessage(p);
    const parts: Uint8Array[] = [];
    for (let o = 0; o < p.length; o += 1 << 20) parts.push(encodeGunMessage(p.subarray(o, o + (1 << 20))));
    const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
    let o = 0;
    for (const x of parts) {
      out.set(x, o);
      o += x.length;
    }
    return out;
  }
}

/** {@linkcode StreamDecoder} reading gun messages; end of stream is the HTTP/2 stream's end. */
export class GunDecoder implements StreamDecoder {
  decode(q: ByteQueue): Uint8Array | null {
    const r = decodeGunMessage(q.peek());
    if (!r) return null;
    const data = r.value;
    q.consume(r.length);
    return data;
  }
}
