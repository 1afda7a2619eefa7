/**
 * smux protocol version 1 frames (xtaci/smux as forked by SagerNet, used by sing-mux), sans-I/O.
 * Header, 8 bytes: version (1), cmd (1), length (2, little-endian), stream ID (4,
 * little-endian), then `length` bytes. Commands: SYN opens a stream, FIN ends it, PSH carries
 * data, NOP does nothing, UPD (version 2 window update) is read and ignored. Client stream IDs
 * are odd from 3, server ones even from 2. No per-stream flow control in version 1.
 *
 * @module
 */
import { ProtocolError } from "../../common/errors.ts";
import type { Decoded } from "../../common/socks_addr.ts";

/** Protocol version spoken (sing-mux uses smux's default, 1). */
export const SMUX_VERSION = 1;
/** Commands. */
export const SMUX_CMD = { SYN: 0, FIN: 1, PSH: 2, NOP: 3, UPD: 4 } as const;
/** Header size, bytes. */
export const SMUX_HEADER_SIZE = 8;
/** Largest data per PSH frame sent (smux default `MaxFrameSize`), bytes. */
export const SMUX_MAX_FRAME = 32768;

/** A decoded frame (`data` is a view into the input). */
export interface SmuxFrame {
  cmd: number;
  sid: number;
  data: Uint8Array;
}

/** Encodes one frame. @throws {RangeError} If `data` exceeds 65535 bytes. */
export function encodeSmuxFrame(cmd: number, sid: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (data.length > 0xffff) throw new RangeError("smux frame data exceeds 65535 bytes");
  const out = new Uint8Array(SMUX_HEADER_SIZE + data.length);
  const v = new DataView(out.buffer);
  out[0] = SMUX_VERSION;
  out[1] = cmd;
  v.setUint16(2, data.length, true);
  v.setUint32(4, sid, true);
  out.set(data, SMUX_HEADER_SIZE);
  return out;
}

/**
 * Decodes one frame from the front of `buf`.
 *
 * @throws {ProtocolError} On a version other than 1 or an unknown command.
 */
export function decodeSmuxFrame(buf: Uint8Array): Decoded<SmuxFrame> {
  if (buf.length < SMUX_HEADER_SIZE) return null;
  if (buf[0] !== SMUX_VERSION) throw new ProtocolError("smux", 0, `unsupported version ${buf[0]}`);
  const cmd = buf[1];
  if (cmd > SMUX_CMD.UPD) throw new ProtocolError("smux", 1, `unknown command ${cmd}`);
  const v = new DataView(buf.buffer, buf.byteOffset, SMUX_HEADER_SIZE);
  const len = v.getUint16(2, true);
  const sid = v.getUint32(4, true);
  if (buf.length < SMUX_HEADER_SIZE + len) return null;
  return {
    value: { cmd, sid, data: buf.subarray(SMUX_HEADER_SIZE, SMUX_HEADER_SIZE + len) },
    length: SMUX_HEADER_SIZE + len,
  };
}
