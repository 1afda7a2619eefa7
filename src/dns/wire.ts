/**
 * Allocation-light reads and patches on DNS messages in wire format (RFC 1035 §4.1): header
 * fields, the first question, and the offsets of every resource record's TTL. The cache hot path
 * uses these instead of a full decode.
 *
 * @module
 */

/** DNS header length in bytes. */
export const HEADER_LENGTH = 12;

/** Resource record types used by name in the DNS code. */
export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  SVCB: 64,
  HTTPS: 65,
  ANY: 255,
} as const;

/** Response codes (RFC 1035 §4.1.1, RFC 2136). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** The first question of a message. */
export interface WireQuestion {
  /** Lower-case name without the trailing dot (`""` for the root). */
  name: string;
  type: number;
  class: number;
  /** Offset just past the question. */
  end: number;
}

/** Reads the 16-bit ID. */
export function getId(msg: Uint8Array): number {
  return (msg[0] << 8) | msg[1];
}

/** Writes the 16-bit ID in place. */
export function setId(msg: Uint8Array, id: number): void {
  msg[0] = (id >> 8) & 0xff;
  msg[1] = id & 0xff;
}

/** The header flags word (bytes 2..3). */
export function getFlags(msg: Uint8Array): number {
  return (msg[2] << 8) | msg[3];
}

/** True when the QR bit marks a response. */
export function isResponse(msg: Uint8Array): boolean {
  return (msg[2] & 0x80) !== 0;
}

/** True when the TC (truncated) bit is set. */
export function isTruncated(msg: Uint8Array): boolean {
  return (msg[2] & 0x02) !== 0;
}

/** The 4-bit RCODE of the header. */
export function getRcode(msg: Uint8Array): number {
  return msg[3] & 0x0f;
}

/** Section counts: question, answer, authority, additional. */
export function getCounts(msg: Uint8Array): [number, number, number, number] {
  return [(msg[4] << 8) | msg[5], (msg[6] << 8) | msg[7], (msg[8] << 8) | msg[9], (msg[10] << 8) | msg[11]];
}

/**
 * Skips a (possibly compressed) domain name starting at `offset` and returns the offset after it.
 *
 * @throws {RangeError} If the name runs past the end of `msg` or has a bad label type
 */
export function skipName(msg: Uint8Array, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= msg.length) throw new RangeError(`DNS name at byte ${offset} runs past the message end`);
    const len = msg[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 2 > msg.length) throw new RangeError(`DNS name pointer at byte ${pos} is truncated`);
      return pos + 2;
    }
    if ((len & 0xc0) !== 0) throw new RangeError(`DNS label at byte ${pos} has reserved type bits`);
    pos += 1 + len;
  }
}

/**
 * Reads a (possibly compressed) name at `offset` as lower-case text without the trailing dot.
 *
 * @throws {RangeError} If the name is malformed or has a pointer loop
 */
export function readName(msg: Uint8Array, offset: number): string {
  let pos = offset;
  let out = "";
  let jumps = 0;
  for (;;) {
    if (pos >= msg.length) throw new RangeError(`DNS name at byte ${offset} runs past the message end`);
    const len = msg[pos];
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length || ++jumps > 64) throw new RangeError(`Bad DNS name pointer at byte ${pos}`);
      pos = ((len & 0x3f) << 8) | msg[pos + 1];
      continue;
    }
    if ((len & 0xc0) !== 0) throw new RangeError(`DNS label at byte ${pos} has reserved type bits`);
    if (pos + 1 + len > msg.length) {
      throw new RangeError(`DNS label at byte ${pos} runs past the message end`);
    }
    if (out.length) out += ".";
    for (let i = pos + 1; i <= pos + len; i++) {
      let c = msg[i];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      out += c === 0x2e || c < 0x21 || c > 0x7e ? `\\${String(c).padStart(3, "0")}` : String.fromCharCode(c);
    }
    pos += 1 + len;
  }
  return out;
}

/**
 * Reads the first question, or `null` when the message has none.
 *
 * @throws {RangeError} If the message is shorter than its header or question claims
 */
export function readQuestion(msg: Uint8Array): WireQuestion | null {
  if (msg.length < HEADER_LENGTH) {
    throw new RangeError(`DNS message of ${msg.length} bytes is shorter than a header`);
  }
  if (((msg[4] << 8) | msg[5]) === 0) return null;
  const nameEnd = skipName(msg, HEADER_LENGTH);
  if (nameEnd + 4 > msg.length) throw new RangeError("DNS question runs past the message end");
  return {
    name: readName(msg, HEADER_LENGTH),
    type: (msg[nameEnd] << 8) | msg[nameEnd + 1],
    class: (msg[nameEnd + 2] << 8) | msg[nameEnd + 3],
    end: nameEnd + 4,
  };
}

/** Where each resource record of a message sits. */
export interface RecordOffsets {
  /** Offset of each record's 32-bit TTL field, answer, authority and additional sections in order. */
  ttl: number[];
  /** Record type of each entry in `ttl`. */
  type: number[];
  /** Offset of each record's RDATA. */
  rdata: number[];
  /** Length of each record's RDATA. */
  rdlength: number[];
  /** Section of each record: 1 answer, 2 authority, 3 additional. */
  section: number[];
}

/**
 * Walks every resource record and returns the offset of each TTL field and its type.
 *
 * @throws {RangeError} If a record runs past the end of the message
 */
export function recordOffsets(msg: Uint8Array): RecordOffsets {
  const [qd, an, ns, ar] = getCounts(msg);
  let pos = HEADER_LENGTH;
  for (let i = 0; i < qd; i++) pos = skipName(msg, pos) + 4;
  const out: RecordOffsets = { ttl: [], type: [], rdata: [], rdlength: [], section: [] };
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    pos = skipName(msg, pos);
    if (pos + 10 > msg.length) throw new RangeError(`DNS record ${i} runs past the message end`);
    out.type.push((msg[pos] << 8) | msg[pos + 1]);
    out.ttl.push(pos + 4);
    const rdlen = (msg[pos + 8] << 8) | msg[pos + 9];
    out.rdata.push(pos + 10);
    out.rdlength.push(rdlen);
    out.section.push(i < an ? 1 : i < an + ns ? 2 : 3);
    pos += 10 + rdlen;
    if (pos > msg.length) throw new RangeError(`DNS record ${i} data runs past the message end`);
  }
  return out;
}

/** Reads a 32-bit TTL at `offset`. */
export function readTtl(msg: Uint8Array, offset: number): number {
  return ((msg[offset] << 24) >>> 0) + (msg[offset + 1] << 16) + (msg[offset + 2] << 8) + msg[offset + 3];
}

/** Writes a 32-bit TTL at `offset`. */
export function writeTtl(msg: Uint8Array, offset: number, ttl: number): void {
  msg[offset] = (ttl >>> 24) & 0xff;
  msg[offset + 1] = (ttl >>> 16) & 0xff;
  msg[offset + 2] = (ttl >>> 8) & 0xff;
  msg[offset + 3] = ttl & 0xff;
}

/**
 * True for a query sing-box treats as cacheable: one question, no answer or authority records,
 * and either no additional record or a single bare OPT record (no options, zero extended flags).
 */
export function isSimpleQuery(msg: Uint8Array, question: WireQuestion): boolean {
  const [qd, an, ns, ar] = getCounts(msg);
  if (qd !== 1 || an !== 0 || ns !== 0) return false;
  if (ar === 0) return true;
  if (ar !== 1) return false;
  const pos = question.end;
  // OPT: root name (0), type 41, class = UDP size > 0, TTL 0, rdlength 0.
  if (pos + 11 > msg.length || msg[pos] !== 0) return false;
  const type = (msg[pos + 1] << 8) | msg[pos + 2];
  const cls = (msg[pos + 3] << 8) | msg[pos + 4];
  const ttl = readTtl(msg, pos + 5);
  const rdlen = (msg[pos + 9] << 8) | msg[pos + 10];
  return type === TYPE.OPT && cls > 0 && ttl === 0 && rdlen === 0;
}

/** Prefixes a message with its 2-byte length for DNS over TCP/TLS (RFC 1035 §4.2.2). */
export function withLengthPrefix(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 2);
  out[0] = msg.length >> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}
