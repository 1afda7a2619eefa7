/**
 * yamux frames (hashicorp/yamux `spec.md`, `const.go`), sans-I/O. Header, 12 bytes, big-endian:
 * version (0), type (0 data, 1 window update, 2 ping, 3 go away), flags (u16: SYN 1, ACK 2,
 * FIN 4, RST 8), stream ID (u32), length (u32). Only data frames carry `length` bytes; for the
 * others it is the window delta, the ping value or the go-away code. Client stream IDs are odd
 * from 1, server ones even from 2; each stream starts with a 256 KiB receive window.
 *
 * @module
 */
import { ProtocolError } from "../../common/errors.ts";
import type { Decoded } from "../../common/socks_addr.ts";

/** Frame types. */
export const YAMUX_TYPE = { DATA: 0, WINDOW_UPDATE: 1, PING: 2, GO_AWAY: 3 } as const;
/** Flags. */
export const YAMUX_FLAG = { SYN: 1, ACK: 2, FIN: 4, RST: 8 } as const;
/** Header size, bytes. */
export const YAMUX_HEADER_SIZE = 12;
/** Initial per-stream window, bytes. */
export const YAMUX_INITIAL_WINDOW = 256 * 1024;
/** Largest data frame accepted, bytes (a peer may not exceed our window anyway). */
export const YAMUX_MAX_DATA = 16 << 20;

/** A decoded frame (`data` is a view into the input; empty unless type is data). */
export interface YamuxFrame {
  type: number;
  flags: number;
  sid: number;
  length: number;
  data: Uint8Array;
}

/** Encodes a header; for data frames `data` follows it. */
export function encodeYamuxFrame(
  type: number,
  flags: number,
  sid: number,
  lengthOrData: number | Uint8Array,
): Uint8Array {
  const data = typeof lengthOrData === "number" ? null : lengthOrData;
  const out = new Uint8Array(YAMUX_HEADER_SIZE + (data?.length ?? 0));
  const v = new DataView(out.buffer);
  out[0] = 0;
  out[1] = type;
  v.setUint16(2, flags);
  v.setUint32(4, sid);
  v.setUint32(8, data ? data.length : lengthOrData as number);
  if (data) out.set(data, YAMUX_HEADER_SIZE);
  return out;
}

/**
 * Decodes one frame from the front of `buf`.
 *
 * @throws {ProtocolError} On a version other than 0, an unknown type, or a data frame over
 *   {@linkcode YAMUX_MAX_DATA}.
 */
export function decodeYamuxFrame(buf: Uint8Array): Decoded<YamuxFrame> {
  if (buf.length < YAMUX_HEADER_SIZE) return null;
  if (buf[0] !== 0) throw new ProtocolError("yamux", 0, `unsupported version ${buf[0]}`);
  const type = buf[1];
  if (type > YAMUX_TYPE.GO_AWAY) throw new ProtocolError("yamux", 1, `unknown type ${type}`);
  const v = new DataView(buf.buffer, buf.byteOffset, YAMUX_HEADER_SIZE);
  const flags = v.getUint16(2), sid = v.getUint32(4), length = v.getUint32(8);
  if (type !== YAMUX_TYPE.DATA) {
    return { value: { type, flags, sid, length, data: buf.subarray(0, 0) }, length: YAMUX_HEADER_SIZE };
  }
  if (length > YAMUX_MAX_DATA) {
    throw new ProtocolError("yamux", 8, `data frame of ${length} bytes is too large`);
  }
  if (buf.length < YAMUX_HEADER_SIZE + length) return null;
  return {
    value: { type, flags, sid, length, data: buf.subarray(YAMUX_HEADER_SIZE, YAMUX_HEADER_SIZE + length) },
    length: YAMUX_HEADER_SIZE + length,
  };
}
