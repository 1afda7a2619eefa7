/**
 * EDNS(0) Padding (RFC 7830) with the block-length policy of RFC 8467 §4.1: queries padded to a
 * multiple of 128 bytes, responses to a multiple of 468. DNS over QUIC must pad when the QUIC
 * layer cannot (RFC 9250 §5.4; Deno's QUIC has no padding API), and DNS over HTTPS should
 * (RFC 8484 §8). Padding is a property of one encrypted hop: a client pads what it sends and
 * strips it from what it receives; a server strips it from queries and pads its answers.
 *
 * Only messages that carry EDNS (an OPT record) are touched, so a query keeps the form its sender
 * chose; sing-box 1.12 pads nothing and has no padding option. The OPT record must be the last
 * record: one followed by another (TSIG, SIG(0)) is in a signed message and left alone. Works on
 * wire bytes, keeping every other byte (and name compression) as it was.
 *
 * @example Usage
 * ```ts ignore
 * const padded = padMessage(query, QUERY_BLOCK); // padded.length % 128 === 0 if query has EDNS
 * ```
 * @module
 */
import { getCounts, recordOffsets, TYPE } from "./wire.ts";

/** EDNS option code of Padding (RFC 7830 §3). */
export const EDNS_PADDING = 12;
/** Block length for queries (RFC 8467 §4.1), bytes. */
export const QUERY_BLOCK = 128;
/** Block length for responses (RFC 8467 §4.1), bytes. */
export const RESPONSE_BLOCK = 468;
/** UDP payload size written into an OPT record this module adds, bytes. */
const OPT_UDP_SIZE = 1232;

/** The OPT record of a message: where its RDATA is and whether it is the last record. */
interface OptRecord {
  rdata: number;
  rdlength: number;
  last: boolean;
}

function findOpt(msg: Uint8Array): OptRecord | undefined {
  let offsets;
  try {
    offsets = recordOffsets(msg);
  } catch {
    return undefined; // malformed: leave it to whoever parses it
  }
  const i = offsets.type.findIndex((t, k) => t === TYPE.OPT && offsets.section[k] === 3);
  if (i < 0) return undefined;
  const rdata = offsets.rdata[i];
  const rdlength = offsets.rdlength[i];
  return { rdata, rdlength, last: rdata + rdlength === msg.length && i === offsets.type.length - 1 };
}

/** The OPT RDATA's options except Padding, and whether there was one; null if malformed. */
function scanOptions(msg: Uint8Array, opt: OptRecord): { kept: Uint8Array[]; padded: boolean } | null {
  const kept: Uint8Array[] = [];
  let padded = false;
  const end = opt.rdata + opt.rdlength;
  for (let p = opt.rdata; p < end;) {
    if (p + 4 > end) return null;
    const code = (msg[p] << 8) | msg[p + 1];
    const len = (msg[p + 2] << 8) | msg[p + 3];
    if (p + 4 + len > end) return null;
    if (code === EDNS_PADDING) padded = true;
    else kept.push(msg.subarray(p, p + 4 + len));
    p += 4 + len;
  }
  return { kept, padded };
}

/** Whether `msg` carries an OPT record (EDNS(0)). */
export function hasEdns(msg: Uint8Array): boolean {
  return findOpt(msg) !== undefined;
}

/** Whether `msg` carries an EDNS Padding option. */
export function hasPaddingOption(msg: Uint8Array): boolean {
  const opt = findOpt(msg);
  return opt !== undefined && scanOptions(msg, opt)?.padded === true;
}

/** Rebuilds `msg` with the OPT RDATA set to `options` plus, if `padLength` >= 0, a Padding option. */
function rebuild(msg: Uint8Array, opt: OptRecord, options: Uint8Array[], padLength: number): Uint8Array {
  let rdlength = padLength >= 0 ? 4 + padLength : 0;
  for (const o of options) rdlength += o.length;
  const out = new Uint8Array(opt.rdata + rdlength); // zero-filled: the padding octets are 0x00
  out.set(msg.subarray(0, opt.rdata));
  out[opt.rdata - 2] = rdlength >> 8;
  out[opt.rdata - 1] = rdlength & 0xff;
  let p = opt.rdata;
  for (const o of options) {
    out.set(o, p);
    p += o.length;
  }
  if (padLength >= 0) {
    out[p] = 0;
    out[p + 1] = EDNS_PADDING;
    out[p + 2] = padLength >> 8;
    out[p + 3] = padLength & 0xff;
  }
  return out;
}

/**
 * Pads `msg` to a multiple of `block` bytes with an EDNS Padding option, replacing any Padding
 * option it had. Returns `msg` itself when it has no OPT record, the OPT is not the last record,
 * its options are malformed, or the padded size would pass 65535 bytes (then without padding).
 *
 * @param block block length in bytes, e.g. {@linkcode QUERY_BLOCK} or {@linkcode RESPONSE_BLOCK}
 */
export function padMessage(msg: Uint8Array, block: number): Uint8Array {
  const opt = findOpt(msg);
  if (!opt?.last) return msg;
  const scan = scanOptions(msg, opt);
  if (!scan) return msg;
  let base = opt.rdata;
  for (const o of scan.kept) base += o.length;
  const target = Math.ceil((base + 4) / block) * block;
  return rebuild(msg, opt, scan.kept, target > 65535 ? -1 : target - base - 4);
}

/** Returns `msg` without its EDNS Padding option (`msg` itself when it has none or cannot be edited). */
export function stripPadding(msg: Uint8Array): Uint8Array {
  const opt = findOpt(msg);
  if (!opt?.last) return msg;
  const scan = scanOptions(msg, opt);
  return scan?.padded ? rebuild(msg, opt, scan.kept, -1) : msg;
}

/** Appends an empty OPT record (EDNS version 0, UDP size 1232) to `msg`, which must have none. */
export function withOpt(msg: Uint8Array): Uint8Array {
  const ar = getCounts(msg)[3];
  if (ar === 0xffff) return msg;
  const out = new Uint8Array(msg.length + 11);
  out.set(msg);
  out[10] = (ar + 1) >> 8;
  out[11] = (ar + 1) & 0xff;
  // Root name, type OPT, class = UDP payload size, extended RCODE/version/flags 0, RDLENGTH 0.
  out.set([0, 0, TYPE.OPT, OPT_UDP_SIZE >> 8, OPT_UDP_SIZE & 0xff, 0, 0, 0, 0, 0, 0], msg.length);
  return out;
}

/**
 * Server side: takes a query received over an encrypted transport and returns it without padding
 * (so the router and cache see what the client asked) and how to treat the answer.
 */
export function receivedQuery(query: Uint8Array): { query: Uint8Array; padAnswer: boolean } {
  if (!hasEdns(query)) return { query, padAnswer: false };
  return { query: stripPadding(query), padAnswer: true };
}

/**
 * Server side: pads an answer to a multiple of {@linkcode RESPONSE_BLOCK} when its query had EDNS
 * (`padAnswer` from {@linkcode receivedQuery}). RFC 7830 §4 requires padding when the query had
 * a Padding option and allows it for any EDNS query; an answer without OPT gets one.
 */
export function answerToSend(answer: Uint8Array, padAnswer: boolean): Uint8Array {
  if (!padAnswer) return answer;
  return padMessage(hasEdns(answer) ? answer : withOpt(answer), RESPONSE_BLOCK);
}
