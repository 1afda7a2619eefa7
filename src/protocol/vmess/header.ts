/**
 * VMess AEAD request and response headers (sans-I/O). Layout of the request:
 * `authID(16) ‖ seal(len u16)(18) ‖ connNonce(8) ‖ seal(header)`, where the header is
 * `ver(1)=1 ‖ bodyIV(16) ‖ bodyKey(16) ‖ respV(1) ‖ option(1) ‖ padLen<<4|security(1) ‖ 0 ‖
 * cmd(1) ‖ port(2) ‖ atyp ‖ addr ‖ padding ‖ fnv1a32(4)`. The auth ID is
 * AES-ECB(KDF16(cmdKey, "AES Auth ID Encryption"), time(8) ‖ rand(4) ‖ crc32(4)).
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { createAead, createAesEcb } from "../../common/aead.ts";
import { ProtocolError } from "../../common/errors.ts";
import { readVAddr, vAddrLength, writeVAddr } from "../../common/wire_addr.ts";
import { MUX_COOL_DESTINATION } from "../xudp/frame.ts";
import { cmdKey, crc32, fnv1a32, kdf, kdf16, sha256Of } from "./kdf.ts";

/** Body security types (header byte, low nibble). */
export const SECURITY = {
  "aes-128-gcm": 3,
  "chacha20-poly1305": 4,
  "none": 5,
  "zero": 6,
} as const;
/** A body security name. */
export type VmessSecurity = keyof typeof SECURITY;

/** Request options. */
export const OPT_CHUNK_STREAM = 0x01;
export const OPT_CHUNK_MASKING = 0x04;
export const OPT_GLOBAL_PADDING = 0x08;
export const OPT_AUTHENTICATED_LENGTH = 0x10;

/** Commands. */
export const CMD_TCP = 1;
export const CMD_UDP = 2;
export const CMD_MUX = 3;

/** Fields of a request header. */
export interface VmessRequest {
  bodyIV: Uint8Array;
  bodyKey: Uint8Array;
  responseV: number;
  option: number;
  security: number;
  command: number;
  destination: Socksaddr;
}

/** Per-user precomputed keys. */
export interface VmessUser {
  name: string;
  uuid: Uint8Array;
  cmdKey: Uint8Array;
  authIdKey: Uint8Array;
}

/** Precomputes a user's keys. */
export function vmessUser(uuid: Uint8Array, name = ""): VmessUser {
  const ck = cmdKey(uuid);
  return { name, uuid, cmdKey: ck, authIdKey: kdf16(ck, "AES Auth ID Encryption") };
}

/** Builds an auth ID for `unixSeconds` (random part drawn unless given). */
export function createAuthId(user: VmessUser, unixSeconds: number, rand?: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(Math.floor(unixSeconds)));
  b.set(rand ?? crypto.getRandomValues(new Uint8Array(4)), 8);
  dv.setUint32(12, crc32(b.subarray(0, 12)));
  const out = new Uint8Array(16);
  createAesEcb(user.authIdKey).encrypt(out, b);
  return out;
}

/** Decrypts an auth ID with a user's key; returns its timestamp or -1 if the CRC does not match. */
export function openAuthId(user: VmessUser, authId: Uint8Array): number {
  const b = new Uint8Array(16);
  createAesEcb(user.authIdKey).decrypt(b, authId);
  const dv = new DataView(b.buffer);
  if (dv.getUint32(12) !== crc32(b.subarray(0, 12))) return -1;
  return Number(dv.getBigUint64(0));
}

/** Serializes the plaintext request header including padding and checksum. */
export function encodeRequestHeader(req: VmessRequest, padding?: Uint8Array): Uint8Array {
  const pad = padding ?? crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 16)));
  // Command 3 (mux) carries no address (v2ray/sing-vmess).
  const addrLen = req.command === CMD_MUX ? 0 : vAddrLength(req.destination);
  const n = 1 + 16 + 16 + 1 + 1 + 1 + 1 + 1 + addrLen + pad.length + 4;
  const b = new Uint8Array(n);
  let o = 0;
  b[o++] = 1;
  b.set(req.bodyIV, o);
  o += 16;
  b.set(req.bodyKey, o);
  o += 16;
  b[o++] = req.responseV;
  b[o++] = req.option;
  b[o++] = (pad.length << 4) | req.security;
  b[o++] = 0;
  b[o++] = req.command;
  if (addrLen) o = writeVAddr(b, o, req.destination);
  b.set(pad, o);
  o += pad.length;
  new DataView(b.buffer).setUint32(o, fnv1a32(b.subarray(0, o)));
  return b;
}

/**
 * Parses a plaintext request header.
 *
 * @throws {ProtocolError} On a wrong version, checksum or address.
 */
export function decodeRequestHeader(b: Uint8Array): VmessRequest {
  if (b.length < 1 + 16 + 16 + 5 + 4 || b[0] !== 1) {
    throw new ProtocolError("vmess", 0, "bad header version");
  }
  const padLen = b[35] >> 4;
  const mux = b[37] === CMD_MUX;
  const a = mux ? { value: MUX_COOL_DESTINATION, length: 0 } : readVAddr(b, 38, "vmess");
  if (!a) throw new ProtocolError("vmess", 38, "truncated address");
  const end = 38 + a.length + padLen;
  if (b.length !== end + 4) throw new ProtocolError("vmess", end, "bad header length");
  if (new DataView(b.buffer, b.byteOffset).getUint32(end) !== fnv1a32(b.subarray(0, end))) {
    throw new ProtocolError("vmess", end, "bad header checksum");
  }
  return {
    bodyIV: b.slice(1, 17),
    bodyKey: b.slice(17, 33),
    responseV: b[33],
    option: b[34],
    security: b[35] & 0x0f,
    command: b[37],
    destination: a.value,
  };
}

function gcmSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, aad?: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.length + 16);
  createAead("aes-128-gcm", key).sealTo(out, nonce, plain, aad);
  return out;
}

function gcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad?: Uint8Array,
): Uint8Array | null {
  const out = new Uint8Array(Math.max(0, sealed.length - 16));
  return createAead("aes-128-gcm", key).openTo(out, nonce, sealed, aad) < 0 ? null : out;
}

/** Seals a plaintext header for `user`: the complete request prefix sent on the wire. */
export function sealRequest(
  user: VmessUser,
  header: Uint8Array,
  options: { unixSeconds?: number; authId?: Uint8Array; nonce?: Uint8Array } = {},
): Uint8Array {
  const authId = options.authId ?? createAuthId(user, options.unixSeconds ?? Date.now() / 1000);
  const nonce = options.nonce ?? crypto.getRandomValues(new Uint8Array(8));
  const len = new Uint8Array([header.length >> 8, header.length & 0xff]);
  const sealedLen = gcmSeal(
    kdf16(user.cmdKey, "VMess Header AEAD Key_Length", authId, nonce),
    kdf(user.cmdKey, "VMess Header AEAD Nonce_Length", authId, nonce).subarray(0, 12),
    len,
    authId,
  );
  const sealedHeader = gcmSeal(
    kdf16(user.cmdKey, "VMess Header AEAD Key", authId, nonce),
    kdf(user.cmdKey, "VMess Header AEAD Nonce", authId, nonce).subarray(0, 12),
    header,
    authId,
  );
  const out = new Uint8Array(16 + 18 + 8 + sealedHeader.length);
  out.set(authId);
  out.set(sealedLen, 16);
  out.set(nonce, 34);
  out.set(sealedHeader, 42);
  return out;
}

/** Bytes before the sealed header: auth ID, sealed length, nonce. */
export const REQUEST_PREFIX_LEN = 42;

/**
 * Opens the sealed length of a request whose auth ID matched `user`; returns the header length
 * or -1 if forged.
 */
export function openRequestLength(user: VmessUser, prefix: Uint8Array): number {
  const authId = prefix.subarray(0, 16);
  const nonce = prefix.subarray(34, 42);
  const len = gcmOpen(
    kdf16(user.cmdKey, "VMess Header AEAD Key_Length", authId, nonce),
    kdf(user.cmdKey, "VMess Header AEAD Nonce_Length", authId, nonce).subarray(0, 12),
    prefix.subarray(16, 34),
    authId,
  );
  return len ? (len[0] << 8) | len[1] : -1;
}

/** Opens the sealed header (`len + 16` bytes) that follows the prefix; `null` if forged. */
export function openRequestHeader(
  user: VmessUser,
  prefix: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  const authId = prefix.subarray(0, 16);
  const nonce = prefix.subarray(34, 42);
  return gcmOpen(
    kdf16(user.cmdKey, "VMess Header AEAD Key", authId, nonce),
    kdf(user.cmdKey, "VMess Header AEAD Nonce", authId, nonce).subarray(0, 12),
    sealed,
    authId,
  );
}

/** Response body key and IV derived from the request's (AEAD mode). */
export function responseKeys(
  req: { bodyKey: Uint8Array; bodyIV: Uint8Array },
): { key: Uint8Array; iv: Uint8Array } {
  return { key: sha256Of(req.bodyKey).slice(0, 16), iv: sha256Of(req.bodyIV).slice(0, 16) };
}

/** Length of the sealed response header on the wire. */
export const RESPONSE_HEADER_LEN = 18 + 4 + 16;

/** Seals the 4-byte response header `respV ‖ option ‖ cmd(0) ‖ cmdLen(0)`. */
export function sealResponse(
  respKey: Uint8Array,
  respIV: Uint8Array,
  responseV: number,
  option = 0,
): Uint8Array {
  const len = gcmSeal(
    kdf16(respKey, "AEAD Resp Header Len Key"),
    kdf(respIV, "AEAD Resp Header Len IV").subarray(0, 12),
    new Uint8Array([0, 4]),
  );
  const body = gcmSeal(
    kdf16(respKey, "AEAD Resp Header Key"),
    kdf(respIV, "AEAD Resp Header IV").subarray(0, 12),
    new Uint8Array([responseV, option, 0, 0]),
  );
  const out = new Uint8Array(len.length + body.length);
  out.set(len);
  out.set(body, len.length);
  return out;
}

/** Opens the sealed response length (18 bytes); returns it or -1 if forged. */
export function openResponseLength(respKey: Uint8Array, respIV: Uint8Array, sealed: Uint8Array): number {
  const len = gcmOpen(
    kdf16(respKey, "AEAD Resp Header Len Key"),
    kdf(respIV, "AEAD Resp Header Len IV").subarray(0, 12),
    sealed,
  );
  return len ? (len[0] << 8) | len[1] : -1;
}

/** Opens the sealed response header body; `null` if forged. */
export function openResponseHeader(
  respKey: Uint8Array,
  respIV: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  return gcmOpen(
    kdf16(respKey, "AEAD Resp Header Key"),
    kdf(respIV, "AEAD Resp Header IV").subarray(0, 12),
    sealed,
  );
}
