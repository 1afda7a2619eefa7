/**
 * HTTP/1.x sniffer: request line and `Host` header (or an absolute-form target).
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

const TOKEN_REGEXP = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE_REGEXP = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d)\.(\d)$/;
const MAX_HEADER_BYTES = 16 * 1024;

/** Strips the port and IPv6 brackets from a Host value. */
export function hostWithoutPort(host: string): string {
  const h = host.trim();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.lastIndexOf(":");
  if (colon >= 0 && h.indexOf(":") === colon) return h.slice(0, colon);
  return h;
}

/** Sniffs an HTTP/1 request: `{protocol: "http", domain: Host}`. */
export function sniffHttp(bytes: Uint8Array): SniffOutcome {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, MAX_HEADER_BYTES));
  const lineEnd = text.indexOf("\n");
  if (lineEnd < 0) {
    // Partial request line: the method so far must be a token.
    const sp = text.indexOf(" ");
    const method = sp < 0 ? text : text.slice(0, sp);
    if (method.length && !TOKEN_REGEXP.test(method)) return null;
    if (method.length > 32) return null;
    return bytes.length >= MAX_HEADER_BYTES ? null : "need-more";
  }
  const m = REQUEST_LINE_REGEXP.exec(text.slice(0, lineEnd).replace(/\r$/, ""));
  if (!m) return null;
  const headerEnd = text.search(/\r?\n\r?\n/);
  if (headerEnd < 0) return bytes.length >= MAX_HEADER_BYTES ? null : "need-more";
  let host = "";
  for (const line of text.slice(lineEnd + 1, headerEnd + 1).split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (line.slice(0, colon).trim().toLowerCase() === "host") {
      host = line.slice(colon + 1).trim();
      break;
    }
  }
  const target = m[2];
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(target)) {
    try {
      host = new URL(target).host || host;
    } catch { /* keep header */ }
  }
  return { protocol: "http", domain: host ? hostWithoutPort(host) : undefined };
}
