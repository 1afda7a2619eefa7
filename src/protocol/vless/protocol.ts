/**
 * VLESS (version 0, no flow), sans-I/O codec plus session helpers.
 *
 * Request: `ver(1)=0 ‖ uuid(16) ‖ addonsLen(1) ‖ addons ‖ cmd(1) ‖ port(2) ‖ atyp ‖ addr`
 * (atyp 1 IPv4, 2 domain, 3 IPv6; cmd 1 TCP, 2 UDP, 3 mux: Mux.Cool/XUDP, no address). Response: `ver(1)=0 ‖
 * addonsLen(1) ‖ addons`, then raw data both ways. UDP payloads are framed `len(2, BE) ‖ data`.
 *
 * @module
 */
import type { Socksaddr, Stream } from "../../adapter/types.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream, type StreamDecoder, type StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { Decoded } from "../../common/socks_addr.ts";
import { readVAddr, vAddrLength, writeVAddr } from "../../common/wire_addr.ts";
import { MUX_COOL_DESTINATION } from "../xudp/frame.ts";
import { encodeU16Prefixed, readU16Prefixed } from "../../common/length_prefix.ts";

export const VLESS_CMD_TCP = 1;
export const VLESS_CMD_UDP = 2;
export const VLESS_CMD_MUX = 3;

/** A decoded request. */
export interface VlessRequest {
  uuid: Uint8Array;
  command: number;
  destination: Socksaddr;
}

/** Encodes a request header (no addons); command 3 (mux) carries no address. */
export function encodeVlessRequest(req: VlessRequest): Uint8Array {
  const mux = req.command === VLESS_CMD_MUX;
  const out = new Uint8Array(1 + 16 + 1 + 1 + (mux ? 0 : vAddrLength(req.destination)));
  out[0] = 0;
  out.set(req.uuid, 1);
  out[17] = 0;
  out[18] = req.command;
  if (!mux) writeVAddr(out, 19, req.destination);
  return out;
}

/**
 * Decodes a request header; `null` if more bytes are needed.
 *
 * @throws {ProtocolError} On an unknown version, command or address type.
 */
export function decodeVlessRequest(buf: Uint8Array): Decoded<VlessRequest> {
  if (buf.length < 18) return null;
  if (buf[0] !== 0) throw new ProtocolError("vless", 0, `unsupported version ${buf[0]}`);
  const addonsLen = buf[17];
  const o = 18 + addonsLen;
  if (buf.length < o + 1) return null;
  const command = buf[o];
  if (command === VLESS_CMD_MUX) {
    return {
      value: { uuid: buf.slice(1, 17), command, destination: MUX_COOL_DESTINATION },
      length: o + 1,
    };
  }
  if (command !== VLESS_CMD_TCP && command !== VLESS_CMD_UDP) {
    throw new ProtocolError("vless", o, `unknown command ${command}`);
  }
  const a = readVAddr(buf, o + 1, "vless");
  if (!a) return null;
  return { value: { uuid: buf.slice(1, 17), command, destination: a.value }, length: o + 1 + a.length };
}

/** Strips the response header (`0 ‖ addonsLen ‖ addons`) on the client side. */
class ResponseDecoder implements StreamDecoder {
  #seen = false;
  #inner: StreamDecoder | null;
  constructor(inner: StreamDecoder | null) {
    this.#inner = inner;
  }
  get done(): boolean {
    return this.#inner?.done ?? false;
  }
  decode(q: ByteQueue): Uint8Array | null {
    if (!this.#seen) {
      if (q.length < 2) return null;
      const h = q.peek(2);
      if (h[0] !== 0) throw new ProtocolError("vless", 0, `unsupported response version ${h[0]}`);
      if (q.length < 2 + h[1]) return null;
      q.consume(2 + h[1]);
      this.#seen = true;
    }
    if (this.#inner) return this.#inner.decode(q);
    return q.length ? q.take(q.length) : null;
  }
}

const RAW: StreamEncoder = { encode: (p) => p };
const EMPTY = new Uint8Array(0);

/** Length-prefixed packets (`len(2) ‖ data`) for UDP over VLESS and Trojan-like streams. */
export class LengthPacketEncoder implements StreamEncoder {
  encode(p: Uint8Array): Uint8Array {
    return encodeU16Prefixed(EMPTY, p);
  }
}

/** Decodes `len(2) ‖ data` packets; each decode returns one whole packet. */
export class LengthPacketDecoder implements StreamDecoder {
  decode(q: ByteQueue): Uint8Array | null {
    const p = readU16Prefixed(q.peek(), 0);
    if (!p) return null;
    q.consume(2);
    return q.take(p.data.length);
  }
}

/**
 * Opens a VLESS session over `inner`; the request goes out with the first write (or read).
 * `command` {@linkcode VLESS_CMD_UDP} frames each write as one length-prefixed datagram.
 */
export function vlessClient(
  inner: Stream,
  uuid: Uint8Array,
  destination: Socksaddr,
  command: number = VLESS_CMD_TCP,
): Stream {
  const header = encodeVlessRequest({ uuid, command, destination });
  const udp = command === VLESS_CMD_UDP;
  return new CodecStream(
    inner,
    udp ? new LengthPacketEncoder() : RAW,
    new ResponseDecoder(udp ? new LengthPacketDecoder() : null),
    { rawPrefix: header },
  );
}

/** Wraps the server side after the request was read: sends the response with the first write. */
export function vlessServerStream(inner: Stream, rest: Uint8Array, udp = false): Stream {
  const q = new ByteQueue(64 * 1024);
  q.push(rest);
  const raw: StreamDecoder = { decode: (b) => (b.length ? b.take(b.length) : null) };
  return new CodecStream(
    inner,
    udp ? new LengthPacketEncoder() : RAW,
    udp ? new LengthPacketDecoder() : raw,
    { queue: q, rawPrefix: new Uint8Array([0, 0]) },
  );
}
