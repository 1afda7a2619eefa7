/**
 * Shadowsocks 2022 (SIP022) UDP, sans-I/O.
 *
 * AES methods: `AES-ECB(PSK, sessionID(8) ‖ packetID(8)) ‖ [EIH] ‖ seal(body)` where the body key
 * is BLAKE3-derive-key("shadowsocks 2022 session subkey", PSK ‖ sessionID) and the nonce is the
 * last 12 bytes of the plain separate header; with an iPSK the separate header is encrypted with
 * the iPSK and followed by `AES-ECB(iPSK, BLAKE3(uPSK)[..16] ⊕ plain header)`.
 * ChaCha20 method: `nonce(24) ‖ XChaCha20-Poly1305(PSK, sessionID ‖ packetID ‖ body)`.
 * Client body: `type=0 ‖ ts(8) ‖ padLen(2) ‖ padding ‖ SOCKS addr ‖ payload`; server body:
 * `type=1 ‖ ts(8) ‖ clientSessionID(8) ‖ padLen(2) ‖ padding ‖ SOCKS addr ‖ payload`.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { type Aead, createAead, createAesEcb } from "../../common/aead.ts";
import { ProtocolError } from "../../common/errors.ts";
import { decodeSocksAddr, socksAddrLength, writeSocksAddr } from "../../common/socks_addr.ts";
import { blake3KeyDerive, concat, type ShadowsocksMethod } from "./method.ts";
import { pskHash, SS2022_TIME_WINDOW_S, type Ss2022User } from "./ss2022.ts";

/** A decoded 2022 datagram. */
export interface Ss2022Packet {
  sessionId: Uint8Array;
  packetId: bigint;
  /** Set in server-to-client packets: the client's session. */
  clientSessionId?: Uint8Array;
  addr: Socksaddr;
  data: Uint8Array;
  /** The user the packet authenticated as (server side, multi-user). */
  user?: Ss2022User;
}

const aeadCache = new Map<string, Aead>();
function sessionAead(method: ShadowsocksMethod, psk: Uint8Array, sessionId: Uint8Array): Aead {
  const k = `${method.name}:${hex(psk)}:${hex(sessionId)}`;
  let a = aeadCache.get(k);
  if (!a) {
    if (aeadCache.size > 4096) aeadCache.clear();
    a = createAead(
      method.aead,
      blake3KeyDerive("shadowsocks 2022 session subkey", concat(psk, sessionId), method.keySize),
    );
    aeadCache.set(k, a);
  }
  return a;
}

function body(
  server: boolean,
  now: number,
  clientSessionId: Uint8Array | undefined,
  addr: Socksaddr,
  data: Uint8Array,
) {
  const alen = socksAddrLength(addr);
  const b = new Uint8Array(1 + 8 + (server ? 8 : 0) + 2 + alen + data.length);
  b[0] = server ? 1 : 0;
  const dv = new DataView(b.buffer);
  dv.setBigUint64(1, BigInt(now));
  let o = 9;
  if (server) {
    b.set(clientSessionId!, o);
    o += 8;
  }
  o += 2; // no padding
  o += writeSocksAddr(addr, b, o);
  b.set(data, o);
  return b;
}

/**
 * Seals one datagram. `psk` is the key of the direction's user; `ipsk`, when given (client of a
 * multi-user server), encrypts the separate header and adds the identity header.
 */
export function sealSs2022Udp(
  method: ShadowsocksMethod,
  psk: Uint8Array,
  p: {
    sessionId: Uint8Array;
    packetId: bigint;
    clientSessionId?: Uint8Array;
    addr: Socksaddr;
    data: Uint8Array;
  },
  options: { server: boolean; now: number; ipsk?: Uint8Array },
): Uint8Array {
  const plain = body(options.server, options.now, p.clientSessionId, p.addr, p.data);
  const header = new Uint8Array(16);
  header.set(p.sessionId);
  new DataView(header.buffer).setBigUint64(8, p.packetId);
  if (method.aead === "chacha20-poly1305") {
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const inner = concat(header, plain);
    const out = new Uint8Array(24 + inner.length + 16);
    out.set(nonce);
    createAead("xchacha20-poly1305", psk).sealTo(out.subarray(24), nonce, inner);
    return out;
  }
  const eih = options.ipsk ? 16 : 0;
  const out = new Uint8Array(16 + eih + plain.length + 16);
  createAesEcb(options.ipsk ?? psk).encrypt(out.subarray(0, 16), header);
  if (options.ipsk) {
    const x = pskHash(psk).map((b, i) => b ^ header[i]);
    createAesEcb(options.ipsk).encrypt(out.subarray(16, 32), x);
  }
  sessionAead(method, psk, p.sessionId).sealTo(out.subarray(16 + eih), header.subarray(4), plain);
  return out;
}

/**
 * Decrypts the separate header and the identity header of an AES datagram sent to a server
 * whose identity key is `ipsk`: the plain header and the BLAKE3 hash naming the user's key.
 *
 * @throws {ProtocolError} If the datagram is shorter than both headers.
 */
export function openUdpIdentity(
  ipsk: Uint8Array,
  packet: Uint8Array,
): { header: Uint8Array; hash: Uint8Array } {
  if (packet.length < 32) throw new ProtocolError("shadowsocks-2022", 0, "packet too short");
  const ecb = createAesEcb(ipsk);
  const header = new Uint8Array(16);
  ecb.decrypt(header, packet.subarray(0, 16));
  const hash = new Uint8Array(16);
  ecb.decrypt(hash, packet.subarray(16, 32));
  for (let i = 0; i < 16; i++) hash[i] ^= header[i];
  return { header, hash };
}

/**
 * Opens one datagram. The server passes its users and, for multi-user, its iPSK; the client
 * passes its own user only.
 *
 * @throws {ProtocolError} If it is forged, malformed, of the wrong direction or stale.
 */
export function openSs2022Udp(
  method: ShadowsocksMethod,
  users: Ss2022User[],
  packet: Uint8Array,
  options: { server: boolean; now: number; ipsk?: Uint8Array | null },
): Ss2022Packet {
  let header: Uint8Array, plain: Uint8Array, user: Ss2022User | undefined;
  if (method.aead === "chacha20-poly1305") {
    if (packet.length < 24 + 16 + 16) throw new ProtocolError("shadowsocks-2022", 0, "packet too short");
    user = users[0];
    const out = new Uint8Array(packet.length - 24 - 16);
    if (
      createAead("xchacha20-poly1305", user.psk).openTo(out, packet.subarray(0, 24), packet.subarray(24)) < 0
    ) {
      throw new ProtocolError("shadowsocks-2022", 24, "packet authentication failed");
    }
    header = out.subarray(0, 16);
    plain = out.subarray(16);
  } else {
    const eih = options.ipsk ? 16 : 0;
    if (packet.length < 16 + eih + 16) throw new ProtocolError("shadowsocks-2022", 0, "packet too short");
    if (options.ipsk) {
      const id = openUdpIdentity(options.ipsk, packet);
      header = id.header;
      const h = hex(id.hash);
      user = users.find((u) => hex(pskHash(u.psk)) === h);
      if (!user) throw new ProtocolError("shadowsocks-2022", 16, "unknown user");
    } else {
      header = new Uint8Array(16);
      createAesEcb(users[0].psk).decrypt(header, packet.subarray(0, 16));
      user = users[0];
    }
    const sealed = packet.subarray(16 + eih);
    plain = new Uint8Array(sealed.length - 16);
    if (sessionAead(method, user.psk, header.subarray(0, 8)).openTo(plain, header.subarray(4), sealed) < 0) {
      throw new ProtocolError("shadowsocks-2022", 16 + eih, "packet authentication failed");
    }
  }
  const wantType = options.server ? 0 : 1;
  if (plain.length < 11 || plain[0] !== wantType) {
    throw new ProtocolError("shadowsocks-2022", 0, "bad packet type");
  }
  const dv = new DataView(plain.buffer, plain.byteOffset);
  if (Math.abs(Number(dv.getBigUint64(1)) - options.now) > SS2022_TIME_WINDOW_S) {
    throw new ProtocolError("shadowsocks-2022", 1, "timestamp out of window");
  }
  let o = 9;
  let clientSessionId: Uint8Array | undefined;
  if (!options.server) {
    if (plain.length < 19) throw new ProtocolError("shadowsocks-2022", 9, "truncated");
    clientSessionId = plain.slice(9, 17);
    o = 17;
  }
  const pad = (plain[o] << 8) | plain[o + 1];
  o += 2 + pad;
  const a = o <= plain.length ? decodeSocksAddr(plain, o, "shadowsocks-2022") : null;
  if (!a) throw new ProtocolError("shadowsocks-2022", o, "truncated address");
  return {
    sessionId: header.slice(0, 8),
    packetId: new DataView(header.buffer, header.byteOffset).getBigUint64(8),
    clientSessionId,
    addr: a.value,
    data: plain.slice(o + a.length),
    user,
  };
}

/** Sliding window of seen packet IDs (RFC 6479 style, 64 packets). */
export class PacketIdWindow {
  #max = -1n;
  #bits = 0n;
  /** Returns false for a replayed or too old packet ID, and records new ones. */
  check(id: bigint): boolean {
    if (id > this.#max) {
      const shift = id - this.#max;
      this.#bits = shift >= 64n ? 1n : ((this.#bits << shift) | 1n) & 0xffffffffffffffffn;
      this.#max = id;
      return true;
    }
    const off = this.#max - id;
    if (off >= 64n) return false;
    const bit = 1n << off;
    if (this.#bits & bit) return false;
    this.#bits |= bit;
    return true;
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
