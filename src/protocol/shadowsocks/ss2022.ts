/**
 * Shadowsocks 2022 (SIP022) TCP, sans-I/O: `2022-blake3-{aes-128-gcm, aes-256-gcm,
 * chacha20-poly1305}` with optional identity headers (multi-user, one iPSK level).
 *
 * Request: `salt ‖ EIH* ‖ seal(type=0 ‖ ts(8) ‖ len(2)) ‖ seal(addr ‖ padLen(2) ‖ padding ‖
 * payload) ‖ chunks`. Response: `salt ‖ seal(type=1 ‖ ts(8) ‖ requestSalt ‖ len(2)) ‖
 * seal(payload) ‖ chunks`. Chunks are the AEAD ones with payloads up to 0xFFFF; one counter
 * nonce runs through headers and chunks. Timestamps must be within ±30 s.
 *
 * @module
 */
import { blake3 } from "@noble/hashes/blake3.js";
import type { Socksaddr } from "../../adapter/types.ts";
import { createAead, createAesEcb } from "../../common/aead.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import { decodeSocksAddr, socksAddrLength, writeSocksAddr } from "../../common/socks_addr.ts";
import { AeadChunkOpener, AeadChunkSealer, SS2022_MAX_PAYLOAD } from "./aead_stream.ts";
import { blake3KeyDerive, concat, sessionKey, type ShadowsocksMethod } from "./method.ts";

/** Largest accepted clock difference, seconds. */
export const SS2022_TIME_WINDOW_S = 30;
const MAX_PADDING = 900;
const TYPE_REQUEST = 0;
const TYPE_RESPONSE = 1;

/** First 16 bytes of BLAKE3(psk): what an identity header carries. */
export function pskHash(psk: Uint8Array): Uint8Array {
  return blake3(psk).subarray(0, 16);
}

/** One encrypted identity header for `salt`, naming `next` with the key `ipsk`. */
export function identityHeader(ipsk: Uint8Array, next: Uint8Array, salt: Uint8Array): Uint8Array {
  const key = blake3KeyDerive("shadowsocks 2022 identity subkey", concat(ipsk, salt), ipsk.length);
  const out = new Uint8Array(16);
  createAesEcb(key).encrypt(out, pskHash(next));
  return out;
}

/** Decrypts an identity header sent with `salt` under `ipsk`: the BLAKE3 hash of the next key. */
export function openIdentityHeader(ipsk: Uint8Array, salt: Uint8Array, eih: Uint8Array): Uint8Array {
  const key = blake3KeyDerive("shadowsocks 2022 identity subkey", concat(ipsk, salt), ipsk.length);
  const out = new Uint8Array(16);
  createAesEcb(key).decrypt(out, eih);
  return out;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function checkTime(ts: bigint, now: number): void {
  if (Math.abs(Number(ts) - now) > SS2022_TIME_WINDOW_S) {
    throw new ProtocolError("shadowsocks-2022", 1, "timestamp out of window");
  }
}

/** Client encoder: the first call writes salt, identity headers, both request headers. */
export class Ss2022ClientEncoder implements StreamEncoder {
  readonly salt: Uint8Array;
  #sealer: AeadChunkSealer;
  #first = true;
  #method: ShadowsocksMethod;
  #identities: Uint8Array[];
  #psk: Uint8Array;
  #destination: Socksaddr;
  #now: () => number;

  constructor(
    method: ShadowsocksMethod,
    psk: Uint8Array,
    identities: Uint8Array[],
    destination: Socksaddr,
    options: { salt?: Uint8Array; now?: () => number } = {},
  ) {
    this.#method = method;
    this.#psk = psk;
    this.#identities = identities;
    this.#destination = destination;
    this.#now = options.now ?? nowSeconds;
    this.salt = options.salt ?? crypto.getRandomValues(new Uint8Array(method.saltSize));
    this.#sealer = new AeadChunkSealer(
      createAead(method.aead, sessionKey(method, psk, this.salt)),
      SS2022_MAX_PAYLOAD,
    );
  }

  encode(p: Uint8Array): Uint8Array {
    const s = this.#sealer;
    if (!this.#first) {
      const out = s.scratch(s.sizeOf(p.length));
      return out.subarray(0, s.sealChunks(out, 0, p));
    }
    this.#first = false;
    const alen = socksAddrLength(this.#destination);
    const room = SS2022_MAX_PAYLOAD - alen - 2;
    const head = p.subarray(0, Math.min(p.length, room));
    const rest = p.subarray(head.length);
    const pad = head.length ? 0 : 1 + Math.floor(Math.random() * MAX_PADDING);
    const varLen = alen + 2 + pad + head.length;
    const ids = this.#identities.length;
    const out = new Uint8Array(this.salt.length + ids * 16 + 11 + 16 + varLen + 16 + s.sizeOf(rest.length));
    out.set(this.salt);
    let o = this.salt.length;
    const chain = [...this.#identities, this.#psk];
    for (let i = 0; i < ids; i++) {
      out.set(identityHeader(chain[i], chain[i + 1], this.salt), o);
      o += 16;
    }
    const fixed = new Uint8Array(11);
    fixed[0] = TYPE_REQUEST;
    new DataView(fixed.buffer).setBigUint64(1, BigInt(this.#now()));
    fixed[9] = varLen >> 8;
    fixed[10] = varLen & 0xff;
    o = s.sealBlock(out, o, fixed);
    const v = new Uint8Array(varLen);
    let vo = writeSocksAddr(this.#destination, v, 0);
    v[vo++] = pad >> 8;
    v[vo++] = pad & 0xff;
    crypto.getRandomValues(v.subarray(vo, vo + pad));
    vo += pad;
    v.set(head, vo);
    o = s.sealBlock(out, o, v);
    if (rest.length) o = s.sealChunks(out, o, rest);
    return out.subarray(0, o);
  }
}

/** Client decoder: checks the response header (type, time, request salt) before the chunks. */
export class Ss2022ClientDecoder implements StreamDecoder {
  #method: ShadowsocksMethod;
  #psk: Uint8Array;
  #requestSalt: Uint8Array;
  #opener: AeadChunkOpener | null = null;
  #first = -1;
  #ready = false;
  #now: () => number;

  constructor(
    method: ShadowsocksMethod,
    psk: Uint8Array,
    requestSalt: Uint8Array,
    now: () => number = nowSeconds,
  ) {
    this.#method = method;
    this.#psk = psk;
    this.#requestSalt = requestSalt;
    this.#now = now;
  }

  decode(q: ByteQueue): Uint8Array | null {
    if (this.#ready) return this.#opener!.decode(q);
    const m = this.#method;
    if (!this.#opener) {
      if (q.length < m.saltSize) return null;
      const salt = q.take(m.saltSize).slice();
      this.#opener = new AeadChunkOpener(
        createAead(m.aead, sessionKey(m, this.#psk, salt)),
        SS2022_MAX_PAYLOAD,
        "shadowsocks-2022",
      );
    }
    if (this.#first < 0) {
      const h = this.#opener.openBlock(q, 1 + 8 + m.saltSize + 2);
      if (!h) return null;
      if (h[0] !== TYPE_RESPONSE) throw new ProtocolError("shadowsocks-2022", 0, "bad response type");
      checkTime(new DataView(h.buffer, h.byteOffset).getBigUint64(1), this.#now());
      const rs = h.subarray(9, 9 + m.saltSize);
      if (rs.some((b, i) => b !== this.#requestSalt[i])) {
        throw new ProtocolError("shadowsocks-2022", 9, "response is for another request");
      }
      this.#first = (h[9 + m.saltSize] << 8) | h[10 + m.saltSize];
    }
    const p = this.#opener.openBlock(q, this.#first);
    if (!p) return null;
    this.#ready = true;
    return p;
  }
}

/** A user of a 2022 server: the PSK and, for multi-user, its name. */
export interface Ss2022User {
  name: string;
  psk: Uint8Array;
}

/** Server decoder: identity header, request headers, then chunks; exposes the destination. */
export class Ss2022ServerDecoder implements StreamDecoder {
  #method: ShadowsocksMethod;
  #ipsk: Uint8Array | null;
  #users: Map<string, Ss2022User> | null;
  #single: Ss2022User | null;
  #opener: AeadChunkOpener | null = null;
  #varLen = -1;
  #now: () => number;
  salt: Uint8Array | null = null;
  user: Ss2022User | null = null;
  destination: Socksaddr | null = null;

  /** Single user: `users` has one entry and no `ipsk`. Multi-user: `ipsk` is the server key. */
  constructor(
    method: ShadowsocksMethod,
    users: Ss2022User[],
    ipsk: Uint8Array | null,
    now: () => number = nowSeconds,
  ) {
    this.#method = method;
    this.#ipsk = ipsk;
    this.#now = now;
    if (ipsk) {
      this.#users = new Map(users.map((u) => [hex(pskHash(u.psk)), u]));
      this.#single = null;
    } else {
      this.#users = null;
      this.#single = users[0];
    }
  }

  decode(q: ByteQueue): Uint8Array | null {
    const m = this.#method;
    if (this.destination) return this.#opener!.decode(q);
    if (!this.#opener) {
      const need = m.saltSize + (this.#ipsk ? 16 : 0);
      if (q.length < need) return null;
      this.salt = q.take(m.saltSize).slice();
      if (this.#ipsk) {
        const h = openIdentityHeader(this.#ipsk, this.salt, q.take(16));
        this.user = this.#users!.get(hex(h)) ?? null;
        if (!this.user) throw new ProtocolError("shadowsocks-2022", m.saltSize, "unknown user");
      } else {
        this.user = this.#single;
      }
      this.#opener = new AeadChunkOpener(
        createAead(m.aead, sessionKey(m, this.user!.psk, this.salt)),
        SS2022_MAX_PAYLOAD,
        "shadowsocks-2022",
      );
    }
    if (this.#varLen < 0) {
      const h = this.#opener.openBlock(q, 11);
      if (!h) return null;
      if (h[0] !== TYPE_REQUEST) throw new ProtocolError("shadowsocks-2022", 0, "bad request type");
      checkTime(new DataView(h.buffer, h.byteOffset).getBigUint64(1), this.#now());
      this.#varLen = (h[9] << 8) | h[10];
    }
    const v = this.#opener.openBlock(q, this.#varLen);
    if (!v) return null;
    const a = decodeSocksAddr(v, 0, "shadowsocks-2022");
    if (!a || v.length < a.length + 2) {
      throw new ProtocolError("shadowsocks-2022", 0, "truncated request header");
    }
    const pad = (v[a.length] << 8) | v[a.length + 1];
    const start = a.length + 2 + pad;
    if (start > v.length) throw new ProtocolError("shadowsocks-2022", a.length, "bad padding length");
    if (pad === 0 && start === v.length) {
      throw new ProtocolError("shadowsocks-2022", a.length, "no padding and no payload");
    }
    this.destination = a.value;
    return v.subarray(start);
  }
}

/** Server encoder: the first call writes salt, response header and the first chunk. */
export class Ss2022ServerEncoder implements StreamEncoder {
  #method: ShadowsocksMethod;
  #requestSalt: Uint8Array;
  #sealer: AeadChunkSealer;
  #salt: Uint8Array;
  #first = true;
  #now: () => number;

  constructor(
    method: ShadowsocksMethod,
    psk: Uint8Array,
    requestSalt: Uint8Array,
    now: () => number = nowSeconds,
  ) {
    this.#method = method;
    this.#requestSalt = requestSalt;
    this.#now = now;
    this.#salt = crypto.getRandomValues(new Uint8Array(method.saltSize));
    this.#sealer = new AeadChunkSealer(
      createAead(method.aead, sessionKey(method, psk, this.#salt)),
      SS2022_MAX_PAYLOAD,
    );
  }

  encode(p: Uint8Array): Uint8Array {
    const s = this.#sealer;
    if (!this.#first) {
      const out = s.scratch(s.sizeOf(p.length));
      return out.subarray(0, s.sealChunks(out, 0, p));
    }
    if (p.length === 0) return p;
    this.#first = false;
    const m = this.#method;
    const head = p.subarray(0, Math.min(p.length, SS2022_MAX_PAYLOAD));
    const rest = p.subarray(head.length);
    const fixed = new Uint8Array(1 + 8 + m.saltSize + 2);
    fixed[0] = TYPE_RESPONSE;
    new DataView(fixed.buffer).setBigUint64(1, BigInt(this.#now()));
    fixed.set(this.#requestSalt, 9);
    fixed[9 + m.saltSize] = head.length >> 8;
    fixed[10 + m.saltSize] = head.length & 0xff;
    const out = new Uint8Array(
      this.#salt.length + fixed.length + 16 + head.length + 16 + s.sizeOf(rest.length),
    );
    out.set(this.#salt);
    let o = s.sealBlock(out, this.#salt.length, fixed);
    o = s.sealBlock(out, o, head);
    if (rest.length) o = s.sealChunks(out, o, rest);
    return out.subarray(0, o);
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
