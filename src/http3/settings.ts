/**
 * HTTP/3 SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1): identifiers,
 * defaults, validation of a received frame and the list an endpoint sends.
 *
 * @module
 */
import { connectionError, H3_ERROR } from "./errors.ts";
import { greaseType } from "./frames.ts";

/** Setting identifiers. */
export const SETTING = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
  H3_DATAGRAM: 0x33,
} as const;

/** HTTP/2 setting identifiers HTTP/3 reserves; receiving one is H3_SETTINGS_ERROR (§7.2.4.1). */
export const RESERVED_H2_SETTINGS: ReadonlySet<number> = new Set([0x02, 0x03, 0x04, 0x05]);

/** The settings an endpoint announces, with HTTP/3 defaults for absent ones. */
export interface H3Settings {
  /** @default 0 */
  qpackMaxTableCapacity: number;
  /** @default Infinity (unlimited) */
  maxFieldSectionSize: number;
  /** @default 0 */
  qpackBlockedStreams: number;
  /** Extended CONNECT (RFC 9220). @default false */
  enableConnectProtocol: boolean;
  /** HTTP Datagrams (RFC 9297). @default false */
  h3Datagram: boolean;
}

/** The settings a peer is assumed to have before its SETTINGS frame arrives. */
export const DEFAULT_SETTINGS: Readonly<H3Settings> = {
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Infinity,
  qpackBlockedStreams: 0,
  enableConnectProtocol: false,
  h3Datagram: false,
};

/**
 * Validates received SETTINGS pairs and returns them with defaults filled in.
 *
 * @throws {H3Error} H3_SETTINGS_ERROR for a duplicate identifier, a reserved HTTP/2 identifier, or
 * a boolean setting other than 0 or 1.
 */
export function parseSettings(pairs: readonly (readonly [number, number])[]): H3Settings {
  const seen = new Set<number>();
  const s: H3Settings = { ...DEFAULT_SETTINGS };
  const bool = (id: number, v: number) => {
    if (v !== 0 && v !== 1) {
      throw connectionError(H3_ERROR.SETTINGS_ERROR, `setting 0x${id.toString(16)} must be 0 or 1, got ${v}`);
    }
    return v === 1;
  };
  for (const [id, v] of pairs) {
    if (seen.has(id)) {
      throw connectionError(H3_ERROR.SETTINGS_ERROR, `setting 0x${id.toString(16)} sent twice`);
    }
    seen.add(id);
    if (RESERVED_H2_SETTINGS.has(id)) {
      throw connectionError(H3_ERROR.SETTINGS_ERROR, `reserved HTTP/2 setting 0x${id.toString(16)} received`);
    }
    switch (id) {
      case SETTING.QPACK_MAX_TABLE_CAPACITY:
        s.qpackMaxTableCapacity = v;
        break;
      case SETTING.MAX_FIELD_SECTION_SIZE:
        s.maxFieldSectionSize = v;
        break;
      case SETTING.QPACK_BLOCKED_STREAMS:
        s.qpackBlockedStreams = v;
        break;
      case SETTING.ENABLE_CONNECT_PROTOCOL:
        s.enableConnectProtocol = bool(id, v);
        break;
      case SETTING.H3_DATAGRAM:
        s.h3Datagram = bool(id, v);
        break;
        // Unknown identifiers (including grease) are ignored (§7.2.4).
    }
  }
  return s;
}

/**
 * Returns the pairs to send for `s`: only values that differ from the defaults, plus one grease
 * setting so peers exercise their handling of unknown identifiers.
 */
export function settingsPairs(s: Partial<H3Settings>, grease = true): [number, number][] {
  const out: [number, number][] = [];
  if (s.qpackMaxTableCapacity) out.push([SETTING.QPACK_MAX_TABLE_CAPACITY, s.qpackMaxTableCapacity]);
  if (s.maxFieldSectionSize !== undefined && Number.isFinite(s.maxFieldSectionSize)) {
    out.push([SETTING.MAX_FIELD_SECTION_SIZE, s.maxFieldSectionSize]);
  }
  if (s.qpackBlockedStreams) out.push([SETTING.QPACK_BLOCKED_STREAMS, s.qpackBlockedStreams]);
  if (s.enableConnectProtocol) out.push([SETTING.ENABLE_CONNECT_PROTOCOL, 1]);
  if (s.h3Datagram) out.push([SETTING.H3_DATAGRAM, 1]);
  if (grease) out.push([greaseType(Math.floor(Math.random() * 1000)), Math.floor(Math.random() * 1000)]);
  return out;
}
