/**
 * Trojan request and UDP packet codec (sans-I/O).
 *
 * Request: `hex(SHA224(password))(56) ‖ CRLF ‖ cmd(1: connect, 3: UDP associate) ‖ SOCKS addr ‖
 * CRLF`, then the payload. UDP packets inside the stream: `SOCKS addr ‖ len(2) ‖ CRLF ‖ data`.
 *
 * @module
 */
import { sha224 } from "@noble/hashes/sha2.js";
import type { Packet, Socksaddr } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type Decoded, decodeSocksAddr, socksAddrLength, writeSocksAddr } from "../../common/socks_addr.ts";

export const TROJAN_CMD_CONNECT = 1;
export const TROJAN_CMD_UDP = 3;
/** Length of the hex key. */
export const TROJAN_KEY_LEN = 56;

const enc = new TextEncoder();

/** The 56 ASCII bytes that identify a password. */
export function trojanKey(password: string): Uint8Array {
  const h = sha224(enc.encode(password));
  return enc.encode(Array.from(h, (b) => b.toString(16).padStart(2, "0")).join(""));
}

/** Encodes the request header. */
export function encodeTrojanRequest(key: Uint8Array, command: number, destination: Socksaddr): Uint8Array {
  const out = new Uint8Array(TROJAN_KEY_LEN + 2 + 1 + socksAddrLength(destination) + 2);
  out.set(key);
  out[56] = 0x0d;
  out[57] = 0x0a;
  out[58] = command;
  const o = 59 + writeSocksAddr(destination, out, 59);
  out[o] = 0x0d;
  out[o + 1] = 0x0a;
  return out;
}

/** A decoded request. */
export interface TrojanRequest {
  /** The 56-byte hex key as text. */
  key: string;
  command: number;
  destination: Socksaddr;
}

/**
 * Checks that `buf` starts like a Trojan request (56 hex digits and CRLF). Returns `null`
 * when fewer than 58 bytes are buffered.
 */
export function looksLikeTrojan(buf: Uint8Array): boolean | null {
  if (buf.length < 58) {
    for (let i = 0; i < Math.min(buf.length, 56); i++) if (!isHex(buf[i])) return false;
    return null;
  }
  for (let i = 0; i < 56; i++) if (!isHex(buf[i])) return false;
  return buf[56] === 0x0d && buf[57] === 0x0a;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

/**
 * Decodes a request; `null` if more bytes are needed.
 *
 * @throws {ProtocolError} If the bytes are not a Trojan request.
 */
export function decodeTrojanRequest(buf: Uint8Array): Decoded<TrojanRequest> {
  const like = looksLikeTrojan(buf);
  if (like === false) throw new ProtocolError("trojan", 0, "not a trojan request");
  if (like === null || buf.length < 59) return null;
  const command = buf[58];
  if (command !== TROJAN_CMD_CONNECT && command !== TROJAN_CMD_UDP) {
    throw new ProtocolError("trojan", 58, `unknown command ${command}`);
  }
  const a = decodeSocksAddr(buf, 59, "trojan");
  if (!a) return null;
  const o = 59 + a.length;
  if (buf.length < o + 2) return null;
  if (buf[o] !== 0x0d || buf[o + 1] !== 0x0a) {
    throw new ProtocolError("trojan", o, "missing CRLF after address");
  }
  const key = new TextDecoder().decode(buf.subarray(0, 56));
  return { value: { key, command, destination: a.value }, length: o + 2 };
}

/** Encodes one UDP packet for the stream. */
export function encodeTrojanPacket(addr: Socksaddr, data: Uint8Array): Uint8Array {
  const alen = socksAddrLength(addr);
  const out = new Uint8Array(alen + 4 + data.length);
  writeSocksAddr(addr, out, 0);
  out[alen] = data.length >> 8;
  out[alen + 1] = data.length & 0xff;
  out[alen + 2] = 0x0d;
  out[alen + 3] = 0x0a;
  out.set(data, alen + 4);
  return out;
}

/**
 * Decodes one UDP packet from the front of `q`; `null` if more bytes are needed.
 *
 * @throws {ProtocolError} On a malformed packet.
 */
export function decodeTrojanPacket(q: ByteQueue): Packet | null {
  const buf = q.peek();
  const a = decodeSocksAddr(buf, 0, "trojan");
  if (!a) return null;
  const o = a.length;
  if (buf.length < o + 4) return null;
  const n = (buf[o] << 8) | buf[o + 1];
  if (buf[o + 2] !== 0x0d || buf[o + 3] !== 0x0a) throw new ProtocolError("trojan", o + 2, "missing CRLF");
  if (buf.length < o + 4 + n) return null;
  const data = buf.slice(o + 4, o + 4 + n);
  q.consume(o + 4 + n);
  return { addr: a.value, data };
}
