/**
 * TLS sniffer: reassembles the ClientHello from handshake records and reports its SNI.
 *
 * @module
 */
import { type ClientHelloInfo, parseClientHello } from "./client_hello.ts";
import type { SniffOutcome } from "./types.ts";

/**
 * Collects the first handshake message from TLS records at the start of `bytes`. Returns the
 * message, `"need-more"`, or `null` when the bytes are not TLS handshake records.
 */
export function readHandshakeMessage(bytes: Uint8Array): Uint8Array | "need-more" | null {
  const parts: Uint8Array[] = [];
  let total = 0;
  let want = -1;
  let p = 0;
  for (;;) {
    if (p + 5 > bytes.length) return bytesPrefixOk(bytes, p) ? "need-more" : null;
    if (bytes[p] !== 0x16 || bytes[p + 1] !== 0x03 || bytes[p + 2] > 0x04) return null;
    const len = (bytes[p + 3] << 8) | bytes[p + 4];
    if (len === 0 || len > 16384 + 2048) return null;
    const end = Math.min(bytes.length, p + 5 + len);
    parts.push(bytes.subarray(p + 5, end));
    total += end - (p + 5);
    if (want < 0 && total >= 4) {
      const head = concat(parts).subarray(0, 4);
      if (head[0] !== 1) return null;
      want = 4 + ((head[1] << 16) | (head[2] << 8) | head[3]);
    }
    if (want >= 0 && total >= want) return concat(parts).subarray(0, want);
    if (end < p + 5 + len) return "need-more";
    p = end;
  }
}

function bytesPrefixOk(bytes: Uint8Array, p: number): boolean {
  if (p < bytes.length && bytes[p] !== 0x16) return false;
  if (p + 1 < bytes.length && bytes[p + 1] !== 0x03) return false;
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** Parses the ClientHello at the start of a TLS stream. */
export function readClientHello(bytes: Uint8Array): ClientHelloInfo | "need-more" | null {
  const msg = readHandshakeMessage(bytes);
  if (msg === null || msg === "need-more") return msg;
  try {
    return parseClientHello(msg);
  } catch {
    return null;
  }
}

/**
 * Sniffs a TLS ClientHello: `{protocol: "tls", domain: SNI}`.
 *
 * @example Usage
 * ```ts ignore
 * sniffTls(firstBytes); // { protocol: "tls", domain: "example.com", alpn: ["h2"] }
 * ```
 */
export function sniffTls(bytes: Uint8Array): SniffOutcome {
  const hello = readClientHello(bytes);
  if (hello === null || hello === "need-more") return hello;
  return { protocol: "tls", domain: hello.serverName || undefined, alpn: hello.alpn };
}
