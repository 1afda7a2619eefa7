/**
 * HTTP/1.1 message heads for the proxy (RFC 9112 §2–§3, §5; CONNECT RFC 9110 §9.3.6),
 * sans-I/O. Decoders return `null` until the blank line ending the head has arrived.
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { ProtocolError } from "../../common/errors.ts";
import { parseAddr } from "../../common/socks_addr.ts";
import type { Decoded } from "../../common/socks_addr.ts";

/** Largest accepted message head, bytes. */
export const MAX_HEAD = 64 * 1024;

/** A header field as received (name case preserved). */
export type Header = [name: string, value: string];

/** A request head. */
export interface RequestHead {
  method: string;
  /** Request target as sent: authority-form for CONNECT, absolute-form for plain proxying. */
  target: string;
  version: string;
  headers: Header[];
}

/** A response head. */
export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: Header[];
}

const TOKEN_REGEXP = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function findHeadEnd(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

function splitHead(buf: Uint8Array, protocol: string): { lines: string[]; length: number } | null {
  const end = findHeadEnd(buf);
  if (end < 0) {
    if (buf.length > MAX_HEAD) {
      throw new ProtocolError(protocol, MAX_HEAD, `message head exceeds ${MAX_HEAD} bytes`);
    }
    return null;
  }
  const text = new TextDecoder("latin1").decode(buf.subarray(0, end - 4));
  return { lines: text.split("\r\n"), length: end };
}

function parseHeaders(lines: string[], protocol: string): Header[] {
  const headers: Header[] = [];
  let offset = lines[0]!.length + 2;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0 || !TOKEN_REGEXP.test(line.slice(0, colon))) {
      throw new ProtocolError(protocol, offset, `malformed header line "${line.slice(0, 40)}"`);
    }
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    offset += line.length + 2;
  }
  return headers;
}

/**
 * Decodes a request head.
 * @throws {ProtocolError} If the request line or a header is malformed, or the head is too large
 */
export function decodeRequestHead(buf: Uint8Array): Decoded<RequestHead> {
  const head = splitHead(buf, "http");
  if (!head) return null;
  const parts = head.lines[0]!.split(" ");
  if (parts.length !== 3 || !TOKEN_REGEXP.test(parts[0]!) || !/^HTTP\/1\.[01]$/.test(parts[2]!)) {
    throw new ProtocolError("http", 0, `malformed request line "${head.lines[0]!.slice(0, 80)}"`);
  }
  return {
    value: {
      method: parts[0]!,
      target: parts[1]!,
      version: parts[2]!,
      headers: parseHeaders(head.lines, "http"),
    },
    length: head.length,
  };
}

/**
 * Decodes a response head.
 * @throws {ProtocolError} If the status line or a header is malformed
 */
export function decodeResponseHead(buf: Uint8Array): Decoded<ResponseHead> {
  const head = splitHead(buf, "http");
  if (!head) return null;
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(head.lines[0]!);
  if (!m) throw new ProtocolError("http", 0, `malformed status line "${head.lines[0]!.slice(0, 80)}"`);
  return {
    value: {
      version: m[1]!,
      status: Number(m[2]),
      reason: m[3] ?? "",
      headers: parseHeaders(head.lines, "http"),
    },
    length: head.length,
  };
}

/** Returns the first value of header `name` (case-insensitive). */
export function getHeader(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** Encodes a request head. */
export function encodeRequestHead(head: RequestHead): Uint8Array {
  let s = `${head.method} ${head.target} ${head.version}\r\n`;
  for (const [n, v] of head.headers) s += `${n}: ${v}\r\n`;
  return new TextEncoder().encode(s + "\r\n");
}

/** Encodes a response head with optional headers and no body. */
export function encodeResponse(status: number, reason: string, headers: Header[] = []): Uint8Array {
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [n, v] of headers) s += `${n}: ${v}\r\n`;
  return new TextEncoder().encode(s + "\r\n");
}

/**
 * Parses a CONNECT authority (`host:port`, `[v6]:port`).
 * @throws {ProtocolError} If it has no port
 */
export function parseAuthority(target: string): Socksaddr {
  try {
    return parseAddr(target);
  } catch {
    throw new ProtocolError("http", 0, `CONNECT target "${target.slice(0, 80)}" is not host:port`);
  }
}

/** An absolute-form target split into destination and origin-form path. */
export interface AbsoluteTarget {
  destination: Socksaddr;
  /** Origin-form request target (`/path?query`). */
  path: string;
  /** Value for the Host header. */
  host: string;
}

/**
 * Parses an absolute-form target (`http://host:port/path`).
 * @throws {ProtocolError} If it is not an absolute http URL
 */
export function parseAbsoluteTarget(target: string): AbsoluteTarget {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ProtocolError("http", 0, `request target "${target.slice(0, 80)}" is not an absolute URL`);
  }
  if (url.protocol !== "http:") throw new ProtocolError("http", 0, `unsupported scheme "${url.protocol}"`);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    destination: { host, port: url.port ? Number(url.port) : 80 },
    path: (url.pathname || "/") + url.search,
    host: url.host,
  };
}

/**
 * Decodes `Basic` credentials from a Proxy-Authorization value.
 * @returns user and password, or null if absent or not Basic
 */
export function decodeBasicAuth(value: string | undefined): { username: string; password: string } | null {
  if (!value) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value.trim());
  if (!m) return null;
  let text: string;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Encodes `Basic` credentials. */
export function encodeBasicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Hop-by-hop and proxy headers removed when forwarding a plain request (RFC 9110 §7.6.1). */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "upgrade",
]);
