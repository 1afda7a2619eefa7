/**
 * HTTP message rules for HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3, RFC 9220 §3): validation of
 * decoded field lists (anything malformed is a stream error H3_MESSAGE_ERROR) and conversion
 * between field lists and web-standard `Headers`.
 *
 * @module
 */
import { H3_ERROR, streamError } from "./errors.ts";
import type { Field } from "./qpack/static_table.ts";

/** A validated request head. */
export interface RequestHead {
  method: string;
  /** Absent only for plain CONNECT. */
  scheme?: string;
  authority?: string;
  /** Absent only for plain CONNECT. */
  path?: string;
  /** Extended CONNECT protocol (RFC 9220), e.g. `websocket`. */
  protocol?: string;
  headers: Headers;
  /** Parsed content-length, if present. */
  contentLength?: number;
}

/** A validated response head. */
export interface ResponseHead {
  status: number;
  headers: Headers;
  contentLength?: number;
}

/** Header fields that are connection-specific in HTTP/1.1 and malformed in HTTP/3 (§4.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

// Lowercase tchar (RFC 9110 §5.6.2) lookup.
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TOKEN[c.charCodeAt(0)] = 1;

function malformed(detail: string) {
  return streamError(H3_ERROR.MESSAGE_ERROR, detail);
}

function checkName(name: string, start: number): void {
  if (name.length <= start) throw malformed("empty field name");
  for (let i = start; i < name.length; i++) {
    if (!TOKEN[name.charCodeAt(i)]) {
      throw malformed(`invalid character in field name "${name}"`);
    }
  }
}

function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) throw malformed(`invalid character in the value of "${name}"`);
  }
}

function parseContentLength(values: string[]): number | undefined {
  if (values.length === 0) return undefined;
  let n: number | undefined;
  for (const v of values) {
    for (const part of v.split(",")) {
      const t = part.trim();
      if (!/^[0-9]{1,15}$/.test(t)) throw malformed(`invalid content-length "${v}"`);
      const x = Number(t);
      if (n !== undefined && n !== x) throw malformed("conflicting content-length values");
      n = x;
    }
  }
  return n;
}

/**
 * Splits regular fields into `Headers`, checking names, values and connection-specific fields.
 * Cookie crumbs are joined with "; " (§4.2.1).
 */
function regularFields(fields: readonly Field[], from: number, contentLength: string[] | undefined): Headers {
  const headers = new Headers();
  let cookies: string[] | undefined;
  for (let i = from; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (name.charCodeAt(0) === 0x3a) throw malformed(`pseudo-header "${name}" after regular fields`);
    checkName(name, 0);
    checkValue(name, value);
    if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific field "${name}"`);
    if (name === "te" && value.toLowerCase() !== "trailers") throw malformed(`TE field with "${value}"`);
    if (name === "cookie") {
      (cookies ??= []).push(value);
      continue;
    }
    if (name === "content-length" && contentLength) contentLength.push(value);
    headers.append(name, value);
  }
  if (cookies) headers.set("cookie", cookies.join("; "));
  return headers;
}

/**
 * Validates a request's field section.
 *
 * @throws {H3Error} H3_MESSAGE_ERROR (stream) if the request is malformed.
 */
export function parseRequestFields(fields: readonly Field[], enableConnectProtocol = false): RequestHead {
  const pseudo = new Map<string, string>();
  let i = 0;
  for (; i < fields.length && fields[i][0].charCodeAt(0) === 0x3a; i++) {
    const [name, value] = fields[i];
    if (
      name !== ":method" && name !== ":scheme" && name !== ":authority" && name !== ":path" &&
      name !== ":protocol"
    ) {
      throw malformed(`unknown pseudo-header "${name}" in a request`);
    }
    if (pseudo.has(name)) throw malformed(`duplicate "${name}"`);
    checkValue(name, value);
    pseudo.set(name, value);
  }
  const cl: string[] = [];
  const headers = regularFields(fields, i, cl);
  const method = pseudo.get(":method");
  if (!method) throw malformed("missing :method");
  checkName(method.toLowerCase(), 0);
  const scheme = pseudo.get(":scheme");
  const authority = pseudo.get(":authority");
  const path = pseudo.get(":path");
  const protocol = pseudo.get(":protocol");
  if (protocol !== undefined) {
    if (!enableConnectProtocol) throw malformed(":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL");
    if (method !== "CONNECT") throw malformed(":protocol in a non-CONNECT request");
  }
  if (method === "CONNECT" && protocol === undefined) {
    if (scheme !== undefined || path !== undefined) throw malformed("CONNECT request with :scheme or :path");
    if (!authority) throw malformed("CONNECT request without :authority");
  } else {
    if (!scheme) throw malformed("missing :scheme");
    if (!path) throw malformed("missing or empty :path");
    if ((scheme === "http" || scheme === "https") && !authority && !headers.has("host")) {
      throw malformed(`"${scheme}" request without :authority or host`);
    }
    if (authority && headers.has("host") && headers.get("host") !== authority) {
      throw malformed("host and :authority differ");
    }
    if (protocol !== undefined && !authority) throw malformed("extended CONNECT without :authority");
  }
  const head: RequestHead = { method, headers };
  if (scheme !== undefined) head.scheme = scheme;
  if (authority !== undefined) head.authority = authority;
  if (path !== undefined) head.path = path;
  if (protocol !== undefined) head.protocol = protocol;
  const contentLength = parseContentLength(cl);
  if (contentLength !== undefined) head.contentLength = contentLength;
  return head;
}

/**
 * Validates a response's field section (interim 1xx or final).
 *
 * @throws {H3Error} H3_MESSAGE_ERROR (stream) if the response is malformed.
 */
export function parseResponseFields(fields: readonly Field[]): ResponseHead {
  let status: string | undefined;
  let i = 0;
  for (; i < fields.length && fields[i][0].charCodeAt(0) === 0x3a; i++) {
    const [name, value] = fields[i];
    if (name !== ":status") throw malformed(`pseudo-header "${name}" in a response`);
    if (status !== undefined) throw malformed("duplicate :status");
    status = value;
  }
  if (status === undefined) throw malformed("missing :status");
  if (!/^[1-5][0-9][0-9]$/.test(status)) throw malformed(`invalid :status "${status}"`);
  const code = Number(status);
  if (code === 101) throw malformed("status 101 is not allowed in HTTP/3");
  const cl: string[] = [];
  const headers = regularFields(fields, i, cl);
  const head: ResponseHead = { status: code, headers };
  const contentLength = parseContentLength(cl);
  if (contentLength !== undefined) head.contentLength = contentLength;
  return head;
}

/**
 * Validates a trailer section: regular fields only.
 *
 * @throws {H3Error} H3_MESSAGE_ERROR (stream) on a pseudo-header or bad field.
 */
export function parseTrailerFields(fields: readonly Field[]): Headers {
  if (fields.length > 0 && fields[0][0].charCodeAt(0) === 0x3a) {
    throw malformed(`pseudo-header "${fields[0][0]}" in trailers`);
  }
  return regularFields(fields, 0, undefined);
}

/** Appends `headers` to `out` as HTTP/3 fields, dropping connection-specific ones and `host`. */
export function headersToFields(headers: Headers, out: Field[]): Field[] {
  for (const [name, value] of headers) {
    if (CONNECTION_SPECIFIC.has(name) || name === "host") continue;
    if (name === "te" && value.toLowerCase() !== "trailers") continue;
    if (name === "set-cookie") continue;
    out.push([name, value]);
  }
  for (const cookie of headers.getSetCookie()) out.push(["set-cookie", cookie]);
  return out;
}

/** Builds the field list of a request. `authority` is host[:port]. */
export function requestFields(
  method: string,
  scheme: string,
  authority: string,
  path: string,
  headers: Headers,
  protocol?: string,
): Field[] {
  const out: Field[] = [[":method", method]];
  if (method === "CONNECT" && protocol === undefined) {
    out.push([":authority", authority]);
  } else {
    if (protocol !== undefined) out.push([":protocol", protocol]);
    out.push([":scheme", scheme], [":authority", authority], [":path", path]);
  }
  return headersToFields(headers, out);
}

/** Builds the field list of a response. */
export function responseFields(status: number, headers: Headers): Field[] {
  return headersToFields(headers, [[":status", String(status)]]);
}

/** Whether a response to `method` with `status` carries no content whatever its headers say. */
export function responseHasNoBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
}
