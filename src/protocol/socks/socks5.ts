/**
 * SOCKS5 messages (RFC 1928) and username/password sub-negotiation (RFC 1929), sans-I/O.
 * Decoders take the bytes received so far and return `null` when more are needed; malformed
 * input throws {@linkcode ProtocolError} with the byte offset.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import { type Decoded, decodeSocksAddr, socksAddrLength, writeSocksAddr } from "../../common/socks_addr.ts";

/** Protocol version byte. */
export const VERSION5 = 0x05;
/** Authentication methods (RFC 1928 §3). */
export const METHOD_NO_AUTH = 0x00;
export const METHOD_USERPASS = 0x02;
export const METHOD_NO_ACCEPTABLE = 0xff;
/** Commands (RFC 1928 §4). */
export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
export const CMD_UDP_ASSOCIATE = 0x03;
/** Reply codes (RFC 1928 §6). */
export const REP_SUCCEEDED = 0x00;
export const REP_GENERAL_FAILURE = 0x01;
export const REP_NOT_ALLOWED = 0x02;
export const REP_NETWORK_UNREACHABLE = 0x03;
export const REP_HOST_UNREACHABLE = 0x04;
export const REP_CONNECTION_REFUSED = 0x05;
export const REP_TTL_EXPIRED = 0x06;
export const REP_COMMAND_NOT_SUPPORTED = 0x07;
export const REP_ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

const P = "socks5";

/** Client greeting: `VER NMETHODS METHODS…`. */
export function decodeGreeting(buf: Uint8Array): Decoded<{ methods: number[] }> {
  if (buf.length < 2) return null;
  if (buf[0] !== VERSION5) throw new ProtocolError(P, 0, `unsupported version ${buf[0]}`);
  const n = buf[1]!;
  if (n === 0) throw new ProtocolError(P, 1, "no authentication methods offered");
  if (buf.length < 2 + n) return null;
  return { value: { methods: Array.from(buf.subarray(2, 2 + n)) }, length: 2 + n };
}

/** Encodes a client greeting offering `methods`. */
export function encodeGreeting(methods: number[]): Uint8Array {
  return Uint8Array.of(VERSION5, methods.length, ...methods);
}

/** Server's method selection: `VER METHOD`. */
export function encodeMethodSelection(method: number): Uint8Array {
  return Uint8Array.of(VERSION5, method);
}

/** Decodes the server's method selection. */
export function decodeMethodSelection(buf: Uint8Array): Decoded<number> {
  if (buf.length < 2) return null;
  if (buf[0] !== VERSION5) throw new ProtocolError(P, 0, `unsupported version ${buf[0]}`);
  return { value: buf[1]!, length: 2 };
}

/** RFC 1929 request: `VER=1 ULEN UNAME PLEN PASSWD`. */
export function decodeUserPassRequest(buf: Uint8Array): Decoded<{ username: string; password: string }> {
  if (buf.length < 2) return null;
  if (buf[0] !== 0x01) {
    throw new ProtocolError("socks5-auth", 0, `unsupported sub-negotiation version ${buf[0]}`);
  }
  const ulen = buf[1]!;
  if (buf.length < 3 + ulen) return null;
  const plen = buf[2 + ulen]!;
  if (buf.length < 3 + ulen + plen) return null;
  const td = new TextDecoder();
  return {
    value: {
      username: td.decode(buf.subarray(2, 2 + ulen)),
      password: td.decode(buf.subarray(3 + ulen, 3 + ulen + plen)),
    },
    length: 3 + ulen + plen,
  };
}

/**
 * Encodes an RFC 1929 request.
 * @throws {RangeError} If the user name or password is longer than 255 bytes
 */
export function encodeUserPassRequest(username: string, password: string): Uint8Array {
  const u = new TextEncoder().encode(username);
  const p = new TextEncoder().encode(password);
  if (u.length > 255 || p.length > 255) {
    throw new RangeError("Cannot encode credentials: longer than 255 bytes");
  }
  return Uint8Array.of(0x01, u.length, ...u, p.length, ...p);
}

/** RFC 1929 reply: `VER=1 STATUS` (0 = success). */
export function encodeUserPassReply(ok: boolean): Uint8Array {
  return Uint8Array.of(0x01, ok ? 0x00 : 0x01);
}

/** Decodes an RFC 1929 reply; `value` is true on success. */
export function decodeUserPassReply(buf: Uint8Array): Decoded<boolean> {
  if (buf.length < 2) return null;
  return { value: buf[1] === 0x00, length: 2 };
}

/** A request or reply: `VER CMD|REP RSV ATYP ADDR PORT`. */
export interface Message {
  /** Command (request) or reply code (reply). */
  code: number;
  address: Socksaddr;
}

function decodeMessage(buf: Uint8Array): Decoded<Message> {
  if (buf.length < 4) return null;
  if (buf[0] !== VERSION5) throw new ProtocolError(P, 0, `unsupported version ${buf[0]}`);
  if (buf[2] !== 0x00) throw new ProtocolError(P, 2, "reserved byte is not zero");
  const addr = decodeSocksAddr(buf, 3, P);
  if (!addr) return null;
  return { value: { code: buf[1]!, address: addr.value }, length: 3 + addr.length };
}

function encodeMessage(code: number, address: Socksaddr): Uint8Array {
  const out = new Uint8Array(3 + socksAddrLength(address));
  out[0] = VERSION5;
  out[1] = code;
  writeSocksAddr(address, out, 3);
  return out;
}

/** Decodes a client request (CONNECT, BIND, UDP ASSOCIATE). */
export const decodeRequest: (buf: Uint8Array) => Decoded<Message> = decodeMessage;
/** Decodes a server reply. */
export const decodeReply: (buf: Uint8Array) => Decoded<Message> = decodeMessage;

/** Encodes a client request. */
export function encodeRequest(command: number, destination: Socksaddr): Uint8Array {
  return encodeMessage(command, destination);
}

/** Encodes a server reply with the bound address (`0.0.0.0:0` when unknown). */
export function encodeReply(rep: number, bound: Socksaddr = { host: "0.0.0.0", port: 0 }): Uint8Array {
  return encodeMessage(rep, bound);
}

/** A SOCKS5 UDP datagram: `RSV(2) FRAG ATYP ADDR PORT DATA` (RFC 1928 §7). */
export interface UdpDatagram {
  frag: number;
  address: Socksaddr;
  data: Uint8Array;
}

/**
 * Decodes a UDP request/reply datagram. `data` is a view into `buf`.
 * @throws {ProtocolError} If the header is truncated or malformed
 */
export function decodeUdpDatagram(buf: Uint8Array): UdpDatagram {
  if (buf.length < 4) throw new ProtocolError("socks5-udp", buf.length, "datagram shorter than its header");
  if (buf[0] !== 0 || buf[1] !== 0) throw new ProtocolError("socks5-udp", 0, "reserved bytes are not zero");
  const addr = decodeSocksAddr(buf, 3, "socks5-udp");
  if (!addr) throw new ProtocolError("socks5-udp", buf.length, "datagram shorter than its header");
  return { frag: buf[2]!, address: addr.value, data: buf.subarray(3 + addr.length) };
}

/** Encodes a UDP datagram with header for `address`. */
export function encodeUdpDatagram(address: Socksaddr, data: Uint8Array): Uint8Array {
  const hl = 3 + socksAddrLength(address);
  const out = new Uint8Array(hl + data.length);
  writeSocksAddr(address, out, 3);
  out.set(data, hl);
  return out;
}

/** Maps a dial error to the closest RFC 1928 reply code. */
export function replyCodeFor(error: Error): number {
  const name = error.name;
  if (name === "RejectedError") return REP_NOT_ALLOWED;
  if (name === "ConnectionRefused") return REP_CONNECTION_REFUSED;
  if (name === "TimedOut" || name === "TimeoutError") return REP_TTL_EXPIRED;
  const msg = error.message;
  if (/refused/i.test(msg)) return REP_CONNECTION_REFUSED;
  if (/network is unreachable/i.test(msg)) return REP_NETWORK_UNREACHABLE;
  if (/host is unreachable|no route|not known|no address|failed to lookup|NXDOMAIN/i.test(msg)) {
    return REP_HOST_UNREACHABLE;
  }
  return REP_GENERAL_FAILURE;
}
