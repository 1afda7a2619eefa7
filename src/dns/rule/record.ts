/**
 * Zone-file text records for `predefined` answers (RFC 1035 §5.1 presentation format, one
 * record per string): `name [ttl] [class] type rdata`. The TTL defaults to 3600 as in miekg/dns.
 *
 * @module
 */
import { isIP } from "../../common/ip.ts";
import type { DnsRecord } from "../message.ts";

const CLASSES = new Set(["IN", "CH", "HS", "CS"]);

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] !== undefined ? `"${m[1]}` : m[2]);
  return out;
}

const fqdn = (n: string) => n.replace(/\.$/, "");

/**
 * Parses one record.
 *
 * @throws {SyntaxError} If the text is not a supported record
 */
export function parseZoneRecord(text: string): DnsRecord {
  const t = tokenize(text.replace(/;.*$/, ""));
  if (t.length < 3) throw new SyntaxError(`Cannot parse DNS record "${text}": too few fields`);
  const name = fqdn(t.shift()!);
  let ttl = 3600;
  let cls = "IN";
  while (t.length && (/^\d+$/.test(t[0]) || CLASSES.has(t[0].toUpperCase()))) {
    const v = t.shift()!;
    if (/^\d+$/.test(v)) ttl = Number(v);
    else cls = v.toUpperCase();
  }
  const type = t.shift()?.toUpperCase();
  const rd = t;
  const need = (n: number) => {
    if (rd.length < n) throw new SyntaxError(`Cannot parse DNS record "${text}": ${type} needs ${n} fields`);
  };
  let data: unknown;
  switch (type) {
    case "A":
      need(1);
      if (isIP(rd[0]) !== 4) throw new SyntaxError(`Cannot parse DNS record "${text}": bad IPv4 address`);
      data = rd[0].replace(/^::ffff:/, "");
      break;
    case "AAAA":
      need(1);
      if (isIP(rd[0]) !== 6) throw new SyntaxError(`Cannot parse DNS record "${text}": bad IPv6 address`);
      data = rd[0];
      break;
    case "CNAME":
    case "PTR":
    case "NS":
    case "DNAME":
      need(1);
      data = fqdn(rd[0]);
      break;
    case "TXT":
      need(1);
      data = rd.map((s) => (s.startsWith('"') ? s.slice(1).replace(/\\(.)/g, "$1") : s));
      break;
    case "MX":
      need(2);
      data = { preference: Number(rd[0]), exchange: fqdn(rd[1]) };
      break;
    case "SRV":
      need(4);
      data = { priority: Number(rd[0]), weight: Number(rd[1]), port: Number(rd[2]), target: fqdn(rd[3]) };
      break;
    case "SOA":
      need(7);
      data = {
        mname: fqdn(rd[0]),
        rname: fqdn(rd[1]),
        serial: Number(rd[2]),
        refresh: Number(rd[3]),
        retry: Number(rd[4]),
        expire: Number(rd[5]),
        minimum: Number(rd[6]),
      };
      break;
    default:
      throw new SyntaxError(`Cannot parse DNS record "${text}": type "${type}" is not supported`);
  }
  return { name, type, class: cls, ttl, data };
}
