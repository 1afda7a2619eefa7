/**
 * Typed access to DNS messages through `npm:dns-packet`, plus the response builders sing-box
 * uses (`FixedResponseStatus`, `FixedResponse`) and address extraction.
 *
 * @module
 */
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { formatIp, isIP, parseIp } from "../common/ip.ts";
import { RCODE, TYPE } from "./wire.ts";

/** Default TTL of synthesized answers (sing-box `C.DefaultDNSTTL`), seconds. */
export const DEFAULT_TTL = 600;

/** One question. `type` is a dns-packet type name (`A`, `AAAA`, `UNKNOWN_65`…). */
export interface DnsQuestion {
  name: string;
  type: string;
  class?: string;
}

/** One resource record as dns-packet models it. */
export interface DnsRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  flush?: boolean;
  // deno-lint-ignore no-explicit-any
  data?: any;
  /** OPT only. */
  udpPayloadSize?: number;
  extendedRcode?: number;
  ednsVersion?: number;
  flags?: number;
  options?: EdnsOption[];
}

/** One EDNS0 option. */
export interface EdnsOption {
  code: number | string;
  data?: Uint8Array;
  family?: number;
  sourcePrefixLength?: number;
  scopePrefixLength?: number;
  ip?: string;
}

/** A whole message. `flags` holds every header bit except QR, including the RCODE in the low 4 bits. */
export interface DnsMessage {
  id: number;
  type: "query" | "response";
  flags: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** Header flag bits (without QR). */
export const FLAG = {
  AA: 1 << 10,
  TC: 1 << 9,
  RD: 1 << 8,
  RA: 1 << 7,
  AD: 1 << 5,
  CD: 1 << 4,
} as const;

/**
 * Decodes a wire message.
 *
 * @throws {SyntaxError} If the bytes are not a DNS message
 */
export function decodeMessage(bytes: Uint8Array): DnsMessage {
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const m = dnsPacket.decode(buf);
    return {
      id: m.id,
      type: m.type,
      flags: m.flags,
      questions: m.questions,
      answers: m.answers,
      authorities: m.authorities,
      additionals: m.additionals,
    };
  } catch (e) {
    throw new SyntaxError(`Cannot decode DNS message of ${bytes.length} bytes: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Encodes a message to wire format. */
export function encodeMessage(message: DnsMessage): Uint8Array {
  const buf: Uint8Array = dnsPacket.encode(message);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Numeric type of a dns-packet type name. */
export function typeCode(name: string): number {
  return dnsPacket.type?.toType?.(name) ?? typeFromName(name);
}

const TYPE_NAMES: Record<string, number> = { ...TYPE };

function typeFromName(name: string): number {
  const upper = name.toUpperCase();
  if (upper in TYPE_NAMES) return TYPE_NAMES[upper];
  if (upper.startsWith("UNKNOWN_")) return Number(upper.slice(8));
  if (upper.startsWith("TYPE")) return Number(upper.slice(4));
  return 0;
}

/** dns-packet name of a numeric type (`65` → `UNKNOWN_65`). */
export function typeName(code: number): string {
  for (const [name, value] of Object.entries(TYPE)) if (value === code) return name;
  return `UNKNOWN_${code}`;
}

/** The RCODE of a decoded message. */
export function rcodeOf(message: DnsMessage): number {
  return message.flags & 0x0f;
}

/**
 * A response with no records and the given RCODE (sing-box `FixedResponseStatus`): AA, RD and
 * RA are set, the question is echoed.
 */
export function fixedResponseStatus(query: DnsMessage, rcode: number): DnsMessage {
  return {
    id: query.id,
    type: "response",
    flags: FLAG.AA | FLAG.RD | FLAG.RA | (rcode & 0x0f),
    questions: query.questions,
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/**
 * A NOERROR response answering `question` with those of `addresses` that fit its type (A gets
 * IPv4, AAAA gets IPv6), sing-box `FixedResponse`.
 */
export function fixedResponse(
  id: number,
  question: DnsQuestion,
  addresses: readonly string[],
  ttl: number,
): DnsMessage {
  const answers: DnsRecord[] = [];
  for (const address of addresses) {
    const v = isIP(address);
    if ((v === 4 && question.type === "A") || (v === 6 && question.type === "AAAA")) {
      answers.push({ name: question.name, type: question.type, class: "IN", ttl, data: address });
    }
  }
  return {
    id,
    type: "response",
    flags: FLAG.AA | FLAG.RD | FLAG.RA | RCODE.NOERROR,
    questions: [question],
    answers,
    authorities: [],
    additionals: [],
  };
}

/**
 * The IP addresses a response carries: A and AAAA answers plus `ipv4hint`/`ipv6hint` of HTTPS
 * answers (sing-box `MessageToAddresses`). Empty unless the RCODE is NOERROR.
 */
export function messageToAddresses(message: DnsMessage): string[] {
  if (rcodeOf(message) !== RCODE.NOERROR) return [];
  const out: string[] = [];
  for (const answer of message.answers) {
    if (answer.type === "A" || answer.type === "AAAA") out.push(String(answer.data));
    else if (answer.type === "UNKNOWN_65" && answer.data instanceof Uint8Array) {
      out.push(...svcbHints(answer.data));
    }
  }
  return out;
}

/** Extracts ipv4hint (key 4) and ipv6hint (key 6) addresses from SVCB/HTTPS RDATA. */
export function svcbHints(rdata: Uint8Array): string[] {
  const out: string[] = [];
  // SvcPriority (2), TargetName (uncompressed), then key/len/value triples.
  let pos = 2;
  while (pos < rdata.length && rdata[pos] !== 0) pos += 1 + rdata[pos];
  pos += 1;
  while (pos + 4 <= rdata.length) {
    const key = (rdata[pos] << 8) | rdata[pos + 1];
    const len = (rdata[pos + 2] << 8) | rdata[pos + 3];
    const value = rdata.subarray(pos + 4, pos + 4 + len);
    if (key === 4) {
      for (let i = 0; i + 4 <= value.length; i += 4) out.push(value.subarray(i, i + 4).join("."));
    } else if (key === 6) {
      for (let i = 0; i + 16 <= value.length; i += 16) out.push(formatIp(value.subarray(i, i + 16)));
    }
    pos += 4 + len;
  }
  return out;
}

/** Removes ipv6hint (strategy ipv4_only) or ipv4hint (ipv6_only) from SVCB/HTTPS RDATA. */
export function filterSvcbHints(rdata: Uint8Array, dropKey: 4 | 6): Uint8Array {
  let pos = 2;
  while (pos < rdata.length && rdata[pos] !== 0) pos += 1 + rdata[pos];
  pos += 1;
  const parts: Uint8Array[] = [rdata.subarray(0, pos)];
  while (pos + 4 <= rdata.length) {
    const key = (rdata[pos] << 8) | rdata[pos + 1];
    const len = (rdata[pos + 2] << 8) | rdata[pos + 3];
    if (key !== dropKey) parts.push(rdata.subarray(pos, pos + 4 + len));
    pos += 4 + len;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Returns a copy of `message` carrying an EDNS0 client-subnet option for `prefix` (an address
 * with `/bits`). An existing ECS option is replaced; an existing OPT record is kept.
 */
export function setClientSubnet(message: DnsMessage, prefix: string): DnsMessage {
  const [addr, bitsText] = prefix.split("/");
  const parsed = parseIp(addr);
  if (!parsed) throw new TypeError(`Cannot use client subnet "${prefix}": not an IP prefix`);
  const family = parsed.length === 4 ? 1 : 2;
  const bits = bitsText === undefined ? parsed.length * 8 : Number(bitsText);
  const ecs: EdnsOption = {
    code: "CLIENT_SUBNET",
    family,
    sourcePrefixLength: bits,
    scopePrefixLength: 0,
    ip: addr,
  };
  const additionals = message.additionals.map((r) => ({ ...r }));
  let opt = additionals.find((r) => r.type === "OPT");
  if (!opt) {
    opt = { name: ".", type: "OPT", udpPayloadSize: 4096, flags: 0, options: [] };
    additionals.push(opt);
  }
  opt.options = [...(opt.options ?? []).filter((o) => o.code !== 8 && o.code !== "CLIENT_SUBNET"), ecs];
  return { ...message, additionals };
}

/**
 * The negative-caching TTL of a response without answers: the SOA record's TTL capped by its
 * MINIMUM field (RFC 2308 §5), or `undefined` when there is no SOA.
 */
export function negativeTtl(message: DnsMessage): number | undefined {
  for (const record of message.authorities) {
    if (record.type === "SOA") {
      const ttl = record.ttl ?? 0;
      const minimum = record.data?.minimum ?? ttl;
      return Math.min(ttl, minimum);
    }
  }
  return undefined;
}
