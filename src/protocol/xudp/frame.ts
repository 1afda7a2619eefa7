/**
 * Mux.Cool frames (Xray/v2ray `common/mux`, documented at xtls.github.io "Mux.Cool") as used by
 * XUDP, sans-I/O. A frame is
 *
 * ```
 * metaLen(2, BE) ‖ sessionId(2, BE) ‖ status(1) ‖ option(1)
 *   [‖ network(1: 1 TCP, 2 UDP) ‖ address (V2Ray style: port(2) ‖ atyp ‖ addr)]
 *   [‖ globalId(8)]                                   (XUDP New frames, optional)
 * [‖ dataLen(2, BE) ‖ data]                           (when option has DATA)
 * ```
 *
 * `metaLen` counts the bytes from `sessionId` to the end of the metadata. Status 1 New opens a
 * session, 2 Keep carries data (for XUDP with the packet's address), 3 End closes it, 4
 * KeepAlive is ignored. XUDP ("full-cone" UDP, Xray `common/xudp`, sing-vmess `xudp.go`) sends
 * every datagram as a New or Keep frame whose metadata names its destination, and answers
 * with Keep frames naming the source.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { Decoded } from "../../common/socks_addr.ts";
import { readVAddr, vAddrLength, writeVAddr } from "../../common/wire_addr.ts";

/** Session status: a new sub-connection. */
export const STATUS_NEW = 1;
/** Session status: data for an open sub-connection. */
export const STATUS_KEEP = 2;
/** Session status: the sub-connection ends. */
export const STATUS_END = 3;
/** Session status: keeps the carrying connection alive; carries nothing. */
export const STATUS_KEEP_ALIVE = 4;
/** Option bit: a data section follows the metadata. */
export const OPTION_DATA = 1;
/** Option bit: the sub-connection ended with an error. */
export const OPTION_ERROR = 2;
/** Network byte: TCP. */
export const NETWORK_TCP = 1;
/** Network byte: UDP. */
export const NETWORK_UDP = 2;
/** Largest metadata accepted, bytes (Xray refuses more than 512). */
export const MAX_META_LENGTH = 512;
/** The destination VMess/VLESS requests with command 3 (mux) stand for; never on the wire. */
export const MUX_COOL_DESTINATION: Socksaddr = { host: "v1.mux.cool", port: 0 };

/** One Mux.Cool frame. */
export interface MuxCoolFrame {
  sessionId: number;
  status: number;
  /** Bit set of {@linkcode OPTION_DATA} and {@linkcode OPTION_ERROR}; DATA is set from `data`. */
  option: number;
  /** Present when the metadata names a target: New frames and XUDP Keep frames. */
  target?: { network: number; address: Socksaddr };
  /** XUDP global ID (8 bytes) of a New frame, if the client sent one. */
  globalId?: Uint8Array;
  /** The data section (absent without {@linkcode OPTION_DATA}). */
  data?: Uint8Array;
}

/**
 * Encodes a frame.
 *
 * @throws {RangeError} If the data exceeds 65535 bytes or a domain cannot be encoded.
 */
export function encodeMuxCoolFrame(f: MuxCoolFrame): Uint8Array {
  const addrLen = f.target ? 1 + vAddrLength(f.target.address) : 0;
  const gidLen = f.globalId ? 8 : 0;
  const metaLen = 4 + addrLen + gidLen;
  const data = f.data;
  if (data && data.length > 0xffff) {
    throw new RangeError(`Mux.Cool data of ${data.length} bytes is too large`);
  }
  const out = new Uint8Array(2 + metaLen + (data ? 2 + data.length : 0));
  out[0] = metaLen >> 8;
  out[1] = metaLen & 0xff;
  out[2] = f.sessionId >> 8;
  out[3] = f.sessionId & 0xff;
  out[4] = f.status;
  out[5] = data ? f.option | OPTION_DATA : f.option & ~OPTION_DATA;
  let o = 6;
  if (f.target) {
    out[o++] = f.target.network;
    o = writeVAddr(out, o, f.target.address);
  }
  if (f.globalId) {
    out.set(f.globalId.subarray(0, 8), o);
    o += 8;
  }
  if (data) {
    out[o++] = data.length >> 8;
    out[o++] = data.length & 0xff;
    out.set(data, o);
  }
  return out;
}

/**
 * Decodes one frame from the start of `buf`; `null` while incomplete. `data` is a view of `buf`.
 * Metadata longer than session, status, option is read as a target (network and address) and
 * then, on New frames, an optional 8-byte global ID; any other trailing metadata is skipped.
 *
 * @throws {ProtocolError} On metadata shorter than 4 or longer than {@linkcode MAX_META_LENGTH}
 *   bytes, an unknown status or network, or an address that overruns the metadata.
 */
export function decodeMuxCoolFrame(buf: Uint8Array): Decoded<MuxCoolFrame> {
  if (buf.length < 2) return null;
  const metaLen = (buf[0] << 8) | buf[1];
  if (metaLen < 4 || metaLen > MAX_META_LENGTH) {
    throw new ProtocolError("mux.cool", 0, `bad metadata length ${metaLen}`);
  }
  if (buf.length < 2 + metaLen) return null;
  const status = buf[4];
  if (status < STATUS_NEW || status > STATUS_KEEP_ALIVE) {
    throw new ProtocolError("mux.cool", 4, `unknown session status ${status}`);
  }
  const f: MuxCoolFrame = { sessionId: (buf[2] << 8) | buf[3], status, option: buf[5] };
  const metaEnd = 2 + metaLen;
  if (metaLen > 4 && status !== STATUS_KEEP_ALIVE) {
    const network = buf[6];
    if (network !== NETWORK_TCP && network !== NETWORK_UDP) {
      throw new ProtocolError("mux.cool", 6, `unknown network ${network}`);
    }
    const a = readVAddr(buf.subarray(0, metaEnd), 7, "mux.cool");
    if (!a) throw new ProtocolError("mux.cool", 7, "address overruns the metadata");
    f.target = { network, address: a.value };
    const after = 7 + a.length;
    if (status === STATUS_NEW && metaEnd - after >= 8) f.globalId = buf.slice(after, after + 8);
  }
  if (!(f.option & OPTION_DATA)) return { value: f, length: metaEnd };
  if (buf.length < metaEnd + 2) return null;
  const dataLen = (buf[metaEnd] << 8) | buf[metaEnd + 1];
  if (buf.length < metaEnd + 2 + dataLen) return null;
  f.data = buf.subarray(metaEnd + 2, metaEnd + 2 + dataLen);
  return { value: f, length: metaEnd + 2 + dataLen };
}
