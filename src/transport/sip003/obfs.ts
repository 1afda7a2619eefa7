/**
 * The built-in SIP003 `obfs-local` plugin (simple-obfs), client side, as sing-box
 * (`transport/simple-obfs`), sans-I/O:
 *
 * - `http`: the first write becomes the body of `GET / HTTP/1.1` with `Host` (`obfs-host`,
 *   `:port` unless 80), a `curl/7.x.y` User-Agent, `Upgrade: websocket`, `Connection: Upgrade`,
 *   a random `Sec-WebSocket-Key` and `Content-Length`; later writes are raw. The first response
 *   bytes up to the blank line are dropped.
 * - `tls`: data goes in 16 KiB pieces; the first piece rides in a fake TLS 1.2 ClientHello's
 *   session-ticket extension (with SNI `obfs-host`), the rest in application-data records
 *   (`17 03 03 len`). Server records are parsed: handshake and change-cipher-spec records are
 *   skipped, application-data payloads are returned.
 *
 * @module
 */
import type { ByteQueue } from "../../common/byte_queue.ts";
import type { StreamDecoder, StreamEncoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";

/** `obfs` mode. */
export type ObfsMode = "http" | "tls";

/** Largest piece per TLS record, bytes. */
export const OBFS_TLS_CHUNK = 1 << 14;

const te = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function b64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_");
}

/** Encodes the HTTP request carrying the first payload. */
export function obfsHttpRequest(
  host: string,
  port: number,
  body: Uint8Array,
  rand = Math.random,
): Uint8Array {
  const hostHeader = port === 80 ? host : `${host}:${port}`;
  const key = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const head = `GET / HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: curl/7.${Math.floor(rand() * 54)}.${
    Math.floor(rand() * 2)
  }\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nContent-Length: ${body.length}\r\n\r\n`;
  return concat([te.encode(head), body]);
}

/** HTTP mode, client → server. */
export class ObfsHttpEncoder implements StreamEncoder {
  #first = true;
  #host: string;
  #port: number;
  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }
  encode(p: Uint8Array): Uint8Array {
    if (!this.#first || !p.length) return p;
    this.#first = false;
    return obfsHttpRequest(this.#host, this.#port, p);
  }
}

/** HTTP mode, server → client: drops the response head. */
export class ObfsHttpDecoder implements StreamDecoder {
  #head = true;
  decode(q: ByteQueue): Uint8Array | null {
    if (this.#head) {
      const b = q.peek();
      let end = -1;
      for (let i = 0; i + 3 < b.length; i++) {
        if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
          end = i + 4;
          break;
        }
      }
      if (end < 0) {
        if (b.length > 16384) throw new ProtocolError("obfs-http", b.length, "response head too long");
        return null;
      }
      q.consume(end);
      this.#head = false;
    }
    return q.length ? q.take(q.length) : null;
  }
}

const CIPHER_SUITES = [
  0xc0,
  0x2c,
  0xc0,
  0x30,
  0x00,
  0x9f,
  0xcc,
  0xa9,
  0xcc,
  0xa8,
  0xcc,
  0xaa,
  0xc0,
  0x2b,
  0xc0,
  0x2f,
  0x00,
  0x9e,
  0xc0,
  0x24,
  0xc0,
  0x28,
  0x00,
  0x6b,
  0xc0,
  0x23,
  0xc0,
  0x27,
  0x00,
  0x67,
  0xc0,
  0x0a,
  0xc0,
  0x14,
  0x00,
  0x39,
  0xc0,
  0x09,
  0xc0,
  0x13,
  0x00,
  0x33,
  0x00,
  0x9d,
  0x00,
  0x9c,
  0x00,
  0x3d,
  0x00,
  0x3c,
  0x00,
  0x35,
  0x00,
  0x2f,
  0x00,
  0xff,
];
const TAIL_EXTENSIONS = [
  // ec_point_formats
  0x00,
  0x0b,
  0x00,
  0x04,
  0x03,
  0x01,
  0x00,
  0x02,
  // supported_groups x25519, secp256r1, secp521r1, secp384r1
  0x00,
  0x0a,
  0x00,
  0x0a,
  0x00,
  0x08,
  0x00,
  0x1d,
  0x00,
  0x17,
  0x00,
  0x19,
  0x00,
  0x18,
  // signature_algorithms
  0x00,
  0x0d,
  0x00,
  0x20,
  0x00,
  0x1e,
  0x06,
  0x01,
  0x06,
  0x02,
  0x06,
  0x03,
  0x05,
  0x01,
  0x05,
  0x02,
  0x05,
  0x03,
  0x04,
  0x01,
  0x04,
  0x02,
  0x04,
  0x03,
  0x03,
  0x01,
  0x03,
  0x02,
  0x03,
  0x03,
  0x02,
  0x01,
  0x02,
  0x02,
  0x02,
  0x03,
  // encrypt_then_mac, extended_master_secret
  0x00,
  0x16,
  0x00,
  0x00,
  0x00,
  0x17,
  0x00,
  0x00,
];

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];

/**
 * Builds the fake ClientHello record carrying `data` in the session-ticket extension.
 * `unixSeconds`, `random` (28 bytes) and `sessionId` (32 bytes) are parameters for tests.
 */
export function obfsClientHello(
  data: Uint8Array,
  server: string,
  unixSeconds = Math.floor(Date.now() / 1000),
  random = crypto.getRandomValues(new Uint8Array(28)),
  sessionId = crypto.getRandomValues(new Uint8Array(32)),
): Uint8Array {
  const sni = te.encode(server);
  const extensions = concat([
    new Uint8Array([0x00, 0x23, ...u16(data.length)]),
    data,
    new Uint8Array([0x00, 0x00, ...u16(sni.length + 5), ...u16(sni.length + 3), 0, ...u16(sni.length)]),
    sni,
    new Uint8Array(TAIL_EXTENSIONS),
  ]);
  const body = concat([
    new Uint8Array([
      0x03,
      0x03,
      (unixSeconds >>> 24) & 0xff,
      (unixSeconds >> 16) & 0xff,
      (unixSeconds >> 8) & 0xff,
      unixSeconds & 0xff,
    ]),
    random,
    new Uint8Array([32]),
    sessionId,
    new Uint8Array([...u16(CIPHER_SUITES.length), ...CIPHER_SUITES, 0x01, 0x00, ...u16(extensions.length)]),
    extensions,
  ]);
  return concat([
    new Uint8Array([22, 0x03, 0x01, ...u16(body.length + 4), 1, 0, ...u16(body.length)]),
    body,
  ]);
}

/** TLS mode, client → server. */
export class ObfsTlsEncoder implements StreamEncoder {
  #first = true;
  #server: string;
  constructor(server: string) {
    this.#server = server;
  }
  encode(p: Uint8Array): Uint8Array {
    if (!p.length) return p;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < p.length; i += OBFS_TLS_CHUNK) {
      const piece = p.subarray(i, Math.min(p.length, i + OBFS_TLS_CHUNK));
      if (this.#first) {
        this.#first = false;
        parts.push(obfsClientHello(piece, this.#server));
      } else {
        parts.push(new Uint8Array([0x17, 0x03, 0x03, ...u16(piece.length)]), piece);
      }
    }
    return concat(parts);
  }
}

/**
 * TLS mode, server → client: skips records up to and including the change-cipher-spec (the
 * fake ServerHello and CCS), then returns the payload of every record (the first one is typed as
 * an encrypted handshake message, the rest as application data).
 */
export class ObfsTlsDecoder implements StreamDecoder {
  #left = 0;
  #ccs = false;
  decode(q: ByteQueue): Uint8Array | null {
    for (;;) {
      if (this.#left > 0) {
        if (!q.length) return null;
        const n = Math.min(this.#left, q.length);
        this.#left -= n;
        return q.take(n);
      }
      if (q.length < 5) return null;
      const h = q.peek(5);
      const type = h[0], len = (h[3] << 8) | h[4];
      if (type !== 0x14 && type !== 0x16 && type !== 0x17) {
        throw new ProtocolError("obfs-tls", 0, `unexpected TLS record type ${type}`);
      }
      if (this.#ccs) {
        q.consume(5);
        this.#left = len;
      } else if (type === 0x14 || type === 0x16) {
        if (q.length < 5 + len) return null;
        q.consume(5 + len);
        if (type === 0x14) this.#ccs = true;
      } else {
        throw new ProtocolError("obfs-tls", 0, "application data before change-cipher-spec");
      }
    }
  }
}
