/**
 * DNS responses as the Clash API's `/dns/query` returns them (sing-box `queryDNS`): a
 * Google-DoH-like JSON object with the header bits, the question as miekg/dns marshals it, and
 * records as `{name, type, TTL, data}` where `data` is the record's presentation text.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type DnsMessage, type DnsRecord, FLAG, rcodeOf, typeCode } from "../dns/message.ts";

function fqdn(name: string): string {
  return name.endsWith(".") ? name : `${name}.`;
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function text(v: unknown): string {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

/** The presentation text of a record's data (RFC 1035 §5.1; RFC 3597 `\# len hex` otherwise). */
export function recordData(r: DnsRecord): string {
  const d = r.data;
  switch (r.type) {
    case "A":
    case "AAAA":
      return String(d);
    case "CNAME":
    case "NS":
    case "PTR":
    case "DNAME":
      return fqdn(String(d));
    case "MX":
      return `${d.preference} ${fqdn(d.exchange)}`;
    case "SRV":
      return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`;
    case "SOA":
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case "TXT":
      return (Array.isArray(d) ? d : [d]).map((s: unknown) => quote(text(s))).join(" ");
    case "CAA":
      return `${d.flags} ${d.tag} ${quote(d.value)}`;
  }
  if (d instanceof Uint8Array) return `\\# ${d.length} ${Buffer.from(d).toString("hex")}`;
  return typeof d === "string" ? d : JSON.stringify(d);
}

function recordJson(r: DnsRecord) {
  return { name: fqdn(r.name), type: typeCode(r.type), TTL: r.ttl ?? 0, data: recordData(r) };
}

/** The JSON object for a decoded response. Empty sections are left out, as in sing-box. */
export function dnsResponseJson(m: DnsMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Status: rcodeOf(m),
    Question: m.questions.map((q) => ({ Name: fqdn(q.name), Qtype: typeCode(q.type), Qclass: 1 })),
    Server: "internal",
    TC: (m.flags & FLAG.TC) !== 0,
    RD: (m.flags & FLAG.RD) !== 0,
    RA: (m.flags & FLAG.RA) !== 0,
    AD: (m.flags & FLAG.AD) !== 0,
    CD: (m.flags & FLAG.CD) !== 0,
  };
  const additionals = m.additionals.filter((r) => r.type !== "OPT");
  if (m.answers.length) out.Answer = m.answers.map(recordJson);
  if (m.authorities.length) out.Authority = m.authorities.map(recordJson);
  if (additionals.length) out.Additional = additionals.map(recordJson);
  return out;
}
