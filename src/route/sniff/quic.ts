/**
 * QUIC sniffer: removes Initial packet protection (RFC 9001 §5: initial secrets from the
 * Destination Connection ID, header protection with AES-ECB, payload with AES-128-GCM),
 * reassembles CRYPTO frames into the TLS ClientHello and reports its SNI plus a client guess
 * from the frame layout and TLS fingerprint (the rules of sing-box `common/sniff/quic.go`).
 * QUIC v1, v2 (RFC 9369) and draft-29 are accepted.
 *
 * @module
 */
import { ecb, gcm } from "@noble/ciphers/aes.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type ClientHelloInfo, parseClientHello } from "./client_hello.ts";
import type { SniffOutcome } from "./types.ts";

/** QUIC versions with their Initial salt and key labels. */
const VERSIONS = new Map<number, { salt: Uint8Array; v2: boolean }>([
  [0x00000001, { salt: hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), v2: false }],
  [0x6b3343cf, { salt: hex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), v2: true }],
  [0xff00001d, { salt: hex("afbfec289993d24c9e9786f19c6111e04390a899"), v2: false }],
]);

const FRAME_PADDING = 0x00;
const FRAME_PING = 0x01;
const FRAME_ACK = 0x02;
const FRAME_ACK_ECN = 0x03;
const FRAME_CRYPTO = 0x06;
const FRAME_CONNECTION_CLOSE = 0x1c;

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) over SHA-256 with an empty context. */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Uint8Array {
  const full = new TextEncoder().encode("tls13 " + label);
  const info = new Uint8Array(2 + 1 + full.length + 1);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  info.set(full, 3);
  return expand(sha256, secret, info, length);
}

/** Client Initial keys for a Destination Connection ID (RFC 9001 §5.2). */
export function clientInitialKeys(
  dcid: Uint8Array,
  version = 1,
): { key: Uint8Array; iv: Uint8Array; hp: Uint8Array } {
  const v = VERSIONS.get(version);
  if (!v) throw new RangeError(`Unknown QUIC version 0x${version.toString(16)}`);
  const initial = extract(sha256, dcid, v.salt);
  const secret = hkdfExpandLabel(initial, "client in", 32);
  const prefix = v.v2 ? "quicv2 " : "quic ";
  return {
    key: hkdfExpandLabel(secret, prefix + "key", 16),
    iv: hkdfExpandLabel(secret, prefix + "iv", 12),
    hp: hkdfExpandLabel(secret, prefix + "hp", 16),
  };
}

/** Reads a QUIC variable-length integer (RFC 9000 §16); `undefined` if truncated. */
export function readVarint(b: Uint8Array, p: number): [value: number, next: number] | undefined {
  if (p >= b.length) return undefined;
  const len = 1 << (b[p] >> 6);
  if (p + len > b.length) return undefined;
  let v = b[p] & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[p + i];
  return [v, p + len];
}

/** CRYPTO data gathered across the Initial packets of one flow. */
export interface QuicSniffContext {
  fragments: { offset: number; data: Uint8Array }[];
}

/** Creates an empty context for {@linkcode sniffQuic}. */
export function newQuicSniffContext(): QuicSniffContext {
  return { fragments: [] };
}

interface Decrypted {
  payload: Uint8Array;
}

function decryptInitial(packet: Uint8Array): Decrypted | null {
  if (packet.length < 7 || (packet[0] & 0x80) === 0 || (packet[0] & 0x40) === 0) return null;
  const version = ((packet[1] << 24) >>> 0) + (packet[2] << 16) + (packet[3] << 8) + packet[4];
  const v = VERSIONS.get(version);
  if (!v) return null;
  const packetType = (packet[0] & 0x30) >> 4;
  if (packetType !== (v.v2 ? 1 : 0)) return null;
  let p = 5;
  const dcidLen = packet[p++];
  if (dcidLen === 0 || dcidLen > 20 || p + dcidLen > packet.length) return null;
  const dcid = packet.subarray(p, p + dcidLen);
  p += dcidLen;
  if (p >= packet.length) return null;
  const scidLen = packet[p++];
  p += scidLen;
  const token = readVarint(packet, p);
  if (!token) return null;
  p = token[1] + token[0];
  const length = readVarint(packet, p);
  if (!length) return null;
  const pnOffset = length[1];
  const end = pnOffset + length[0];
  if (end > packet.length || pnOffset + 4 + 16 > packet.length || length[0] < 20) return null;
  const keys = clientInitialKeys(dcid, version);
  const sample = packet.subarray(pnOffset + 4, pnOffset + 20);
  const mask = ecb(keys.hp, { disablePadding: true }).encrypt(sample);
  const header = packet.slice(0, pnOffset + 4);
  header[0] ^= mask[0] & 0x0f;
  const pnLen = (header[0] & 0x03) + 1;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    header[pnOffset + i] ^= mask[1 + i];
    pn = pn * 256 + header[pnOffset + i];
  }
  const aad = header.subarray(0, pnOffset + pnLen);
  const nonce = keys.iv.slice();
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Math.floor(pn / 2 ** (8 * i)) & 0xff;
  try {
    const payload = gcm(keys.key, nonce, aad).decrypt(packet.subarray(pnOffset + pnLen, end));
    return { payload };
  } catch {
    return null;
  }
}

/** Parses the frames of a decrypted Initial payload; `null` on an unexpected frame. */
function readFrames(payload: Uint8Array, ctx: QuicSniffContext): number[] | null {
  const types: number[] = [];
  let p = 0;
  const varints = (n: number): boolean => {
    for (let i = 0; i < n; i++) {
      const r = readVarint(payload, p);
      if (!r) return false;
      p = r[1];
    }
    return true;
  };
  while (p < payload.length) {
    const type = payload[p++];
    types.push(type);
    switch (type) {
      case FRAME_PADDING:
      case FRAME_PING:
        break;
      case FRAME_ACK:
      case FRAME_ACK_ECN: {
        if (!varints(2)) return null;
        const count = readVarint(payload, p);
        if (!count) return null;
        p = count[1];
        if (!varints(1 + 2 * count[0])) return null;
        if (type === FRAME_ACK_ECN && !varints(3)) return null;
        break;
      }
      case FRAME_CRYPTO: {
        const off = readVarint(payload, p);
        if (!off) return null;
        const len = readVarint(payload, off[1]);
        if (!len || len[1] + len[0] > payload.length) return null;
        ctx.fragments.push({ offset: off[0], data: payload.slice(len[1], len[1] + len[0]) });
        p = len[1] + len[0];
        break;
      }
      case FRAME_CONNECTION_CLOSE: {
        if (!varints(2)) return null;
        const reason = readVarint(payload, p);
        if (!reason) return null;
        p = reason[1] + reason[0];
        break;
      }
      default:
        return null;
    }
  }
  return types;
}

function assemble(ctx: QuicSniffContext): Uint8Array {
  const parts: Uint8Array[] = [];
  let index = 0;
  for (let progressed = true; progressed;) {
    progressed = false;
    for (const f of ctx.fragments) {
      if (f.offset <= index && f.offset + f.data.length > index) {
        parts.push(f.data.subarray(index - f.offset));
        index = f.offset + f.data.length;
        progressed = true;
      }
    }
  }
  const out = new Uint8Array(index);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

const isGrease = (v: number | undefined) => v !== undefined && (v & 0x0f0f) === 0x0a0a;

/** sing-box's client guess from the frame types of the completing packet and the ClientHello. */
export function guessQuicClient(types: number[], hello: ClientHelloInfo): string {
  if (types.length === 1) return "firefox";
  const restZero = (xs: number[]) => xs.every((t) => t === FRAME_PADDING);
  if (types[0] === FRAME_CRYPTO && restZero(types.slice(1))) {
    if (
      hello.supportedVersions.length === 2 && isGrease(hello.supportedVersions[0]) &&
      hello.supportedGroups.length === 5 && isGrease(hello.supportedGroups[0])
    ) return "safari";
    if (
      hello.cipherSuites.length === 1 && hello.cipherSuites[0] === 0x1302 &&
      hello.supportedGroups.length === 1 && hello.supportedGroups[0] === 29 &&
      hello.signatureAlgorithms.length === 1 && hello.signatureAlgorithms[0] === 0x0403
    ) return "safari";
  }
  if (types[types.length - 1] === FRAME_CRYPTO && restZero(types.slice(0, -1))) return "quic-go";
  const cryptoCount = types.filter((t) => t === FRAME_CRYPTO).length;
  if (cryptoCount > 1 || types.includes(FRAME_PING)) {
    const goTls = hello.supportedGroups.includes(0x11ec) || hello.extensions.includes(0xff01);
    return goTls ? "quic-go" : "chromium";
  }
  return "unknown";
}

/**
 * Sniffs a QUIC client Initial packet. Pass the same `ctx` for the following packets of a flow
 * when the first answer is `"need-more"` (a ClientHello spread over several Initials).
 */
export function sniffQuic(packet: Uint8Array, ctx: QuicSniffContext = newQuicSniffContext()): SniffOutcome {
  const decrypted = decryptInitial(packet);
  if (!decrypted) return null;
  const types = readFrames(decrypted.payload, ctx);
  if (!types) return null;
  const data = assemble(ctx);
  if (data.length < 4) return "need-more";
  if (data[0] !== 1) return null;
  const want = 4 + ((data[1] << 16) | (data[2] << 8) | data[3]);
  if (data.length < want) return "need-more";
  let hello: ClientHelloInfo;
  try {
    hello = parseClientHello(data.subarray(0, want));
  } catch {
    return null;
  }
  ctx.fragments = [];
  return {
    protocol: "quic",
    domain: hello.serverName || undefined,
    client: guessQuicClient(types, hello),
    alpn: hello.alpn,
  };
}
