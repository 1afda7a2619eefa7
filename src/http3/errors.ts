/**
 * HTTP/3 error codes (RFC 9114 §8.1, RFC 9204 §6) and the error type every HTTP/3 and QPACK
 * component throws.
 *
 * @module
 */

/** HTTP/3 and QPACK application error codes, as sent in CONNECTION_CLOSE, RESET_STREAM and STOP_SENDING. */
export const H3_ERROR = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

/** One of the {@linkcode H3_ERROR} names. */
export type H3ErrorName = keyof typeof H3_ERROR;

const NAMES = new Map<number, H3ErrorName>(
  Object.entries(H3_ERROR).map(([k, v]) => [v, k as H3ErrorName]),
);

/** Returns `H3_<NAME>` for a known code, or the code in hex. */
export function h3ErrorName(code: number): string {
  const name = NAMES.get(code);
  return name ? `H3_${name}`.replace("H3_QPACK_", "QPACK_") : `0x${code.toString(16)}`;
}

/**
 * Whether an error ends the whole connection (`connection`, sent as CONNECTION_CLOSE) or only one
 * request stream (`stream`).
 */
export type H3ErrorScope = "connection" | "stream";

/**
 * An HTTP/3 or QPACK protocol violation, or a local failure, with the code to send the peer.
 *
 * @example Usage
 * ```ts
 * import { H3Error, H3_ERROR } from "./errors.ts";
 * const e = new H3Error(H3_ERROR.FRAME_UNEXPECTED, "connection", "DATA frame on the control stream");
 * console.log(e.message); // "H3_FRAME_UNEXPECTED: DATA frame on the control stream"
 * ```
 */
export class H3Error extends Error {
  /** The error code (see {@linkcode H3_ERROR}). */
  readonly code: number;
  /** Whether the error closes the connection or resets one stream. */
  readonly scope: H3ErrorScope;
  constructor(code: number, scope: H3ErrorScope, detail: string, options?: ErrorOptions) {
    super(`${h3ErrorName(code)}: ${detail}`, options);
    this.name = "H3Error";
    this.code = code;
    this.scope = scope;
  }
}

/** Shorthand for a connection-scoped {@linkcode H3Error}. */
export function connectionError(code: number, detail: string): H3Error {
  return new H3Error(code, "connection", detail);
}

/** Shorthand for a stream-scoped {@linkcode H3Error}. */
export function streamError(code: number, detail: string): H3Error {
  return new H3Error(code, "stream", detail);
}
