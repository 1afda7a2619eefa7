/**
 * Shadowsocks SIP004 UDP packets, sans-I/O: `salt ‖ seal(subkey, nonce 0, SOCKS addr ‖ payload)`;
 * method `none` sends `SOCKS addr ‖ payload` in the clear (sing-shadowsocks `none.go`).
 *
 * @module
 */
import type { Packet, Socksaddr } from "../../adapter/types.ts";
import { createAead } from "../../common/aead.ts";
import { ProtocolError } from "../../common/errors.ts";
import { decodeSocksAddr, socksAddrLength, writeSocksAddr } from "../../common/socks_addr.ts";
import { sessionKey, type ShadowsocksMethod } from "./method.ts";

/** Seals one datagram for `addr`. `salt` is for tests. */
export function sealUdp(
  method: ShadowsocksMethod,
  key: Uint8Array,
  addr: Socksaddr,
  payload: Uint8Array,
  salt?: Uint8Array,
): Uint8Array {
  if (method.kind === "none") {
    const plain = new Uint8Array(socksAddrLength(addr) + payload.length);
    plain.set(payload, writeSocksAddr(addr, plain, 0));
    return plain;
  }
  const s = salt ?? crypto.getRandomValues(new Uint8Array(method.saltSize));
  const alen = socksAddrLength(addr);
  const out = new Uint8Array(s.length + alen + payload.length + 16);
  out.set(s);
  const plainStart = s.length;
  writeSocksAddr(addr, out, plainStart);
  out.set(payload, plainStart + alen);
  const aead = createAead(method.aead, sessionKey(method, key, s));
  const nonce = new Uint8Array(aead.nonceSize);
  const plain = out.subarray(plainStart, plainStart + alen + payload.length);
  aead.sealTo(out.subarray(plainStart), nonce, plain);
  return out;
}

/**
 * Opens one datagram.
 *
 * @throws {ProtocolError} If it is too short, forged, or its address is malformed.
 */
export function openUdp(method: ShadowsocksMethod, key: Uint8Array, packet: Uint8Array): Packet {
  if (method.kind === "none") {
    const a = decodeSocksAddr(packet, 0, "shadowsocks");
    if (!a) throw new ProtocolError("shadowsocks", 0, "truncated address");
    return { addr: a.value, data: packet.subarray(a.length) };
  }
  if (packet.length < method.saltSize + 16 + 1) throw new ProtocolError("shadowsocks", 0, "packet too short");
  const salt = packet.subarray(0, method.saltSize);
  const aead = createAead(method.aead, sessionKey(method, key, salt));
  const body = packet.slice(method.saltSize);
  const n = aead.openTo(body, new Uint8Array(aead.nonceSize), body);
  if (n < 0) throw new ProtocolError("shadowsocks", 0, "packet authentication failed");
  const plain = body.subarray(0, n);
  const a = decodeSocksAddr(plain, 0, "shadowsocks");
  if (!a) throw new ProtocolError("shadowsocks", method.saltSize, "truncated address");
  return { addr: a.value, data: plain.subarray(a.length) };
}
