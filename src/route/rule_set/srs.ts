/**
 * The binary rule-set format `.srs` of sing-box (`common/srs/binary.go`): magic `SRS`, a version
 * byte, then a zlib stream holding a uvarint rule count and the rules. A default rule is type
 * byte 0, items `[id][payload]` and `0xFF` + invert byte; a logical rule is type byte 1, mode
 * byte (0 and, 1 or), uvarint count, the rules, invert byte.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { parseQueryType } from "../../dns/rule/items.ts";
import { typeName } from "../../dns/message.ts";
import { buildDomainSet, dumpDomainSet } from "./domain_set.ts";
import { buildIpSet, rangesToPrefixes, readIpSet, writeIpSet } from "./ip_set.ts";
import type { DefaultHeadlessRule, HeadlessRule, PlainRuleSet } from "./source.ts";
import { RULE_SET_VERSION_CURRENT } from "./source.ts";
import {
  buildSuccinctSet,
  bytesToReversed,
  compareBytes,
  readSuccinctSet,
  reverseToBytes,
  succinctKeys,
  writeSuccinctSet,
} from "./succinct.ts";
import { ByteReader, ByteWriter } from "./varbin.ts";

const MAGIC = [0x53, 0x52, 0x53];

/** Item ids (sing-box `ruleItem*`). */
export const ITEM = {
  queryType: 0,
  network: 1,
  domain: 2,
  domainKeyword: 3,
  domainRegex: 4,
  sourceIpCidr: 5,
  ipCidr: 6,
  sourcePort: 7,
  sourcePortRange: 8,
  port: 9,
  portRange: 10,
  processName: 11,
  processPath: 12,
  packageName: 13,
  wifiSsid: 14,
  wifiBssid: 15,
  adguardDomain: 16,
  processPathRegex: 17,
  networkType: 18,
  networkIsExpensive: 19,
  networkIsConstrained: 20,
  final: 0xff,
} as const;

const NETWORK_TYPES = ["wifi", "cellular", "ethernet", "other"];
const KNOWN_QTYPES = new Set([1, 2, 5, 6, 12, 15, 16, 28, 33, 64, 65, 255]);

/** Errors in `.srs` data. */
export class RuleSetFormatError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RuleSetFormatError";
  }
}

function writeDefault(w: ByteWriter, rule: DefaultHeadlessRule, version: number): void {
  w.u8(0);
  const strings = (id: number, v?: string[]) => {
    if (v?.length) w.u8(id).stringList(v);
  };
  if (rule.query_type?.length) w.u8(ITEM.queryType).u16List(rule.query_type.map(parseQueryType));
  strings(ITEM.network, rule.network);
  if (rule.domain?.length || rule.domain_suffix?.length) {
    w.u8(ITEM.domain);
    writeSuccinctSet(w, buildDomainSet(rule.domain ?? [], rule.domain_suffix ?? [], version === 1));
  }
  strings(ITEM.domainKeyword, rule.domain_keyword);
  strings(ITEM.domainRegex, rule.domain_regex);
  if (rule.source_ip_cidr?.length) writeIpSet(w.u8(ITEM.sourceIpCidr), buildIpSet(rule.source_ip_cidr));
  if (rule.ip_cidr?.length) writeIpSet(w.u8(ITEM.ipCidr), buildIpSet(rule.ip_cidr));
  if (rule.source_port?.length) w.u8(ITEM.sourcePort).u16List(rule.source_port);
  strings(ITEM.sourcePortRange, rule.source_port_range);
  if (rule.port?.length) w.u8(ITEM.port).u16List(rule.port);
  strings(ITEM.portRange, rule.port_range);
  strings(ITEM.processName, rule.process_name);
  strings(ITEM.processPath, rule.process_path);
  strings(ITEM.processPathRegex, rule.process_path_regex);
  strings(ITEM.packageName, rule.package_name);
  if (rule.network_type?.length) {
    if (version < 3) {
      throw new RuleSetFormatError("network_type rule item is only supported in version 3 or later");
    }
    w.u8(ITEM.networkType).u8List(rule.network_type.map((t) => NETWORK_TYPES.indexOf(t)));
  }
  if (rule.network_is_expensive) w.u8(ITEM.networkIsExpensive);
  if (rule.network_is_constrained) w.u8(ITEM.networkIsConstrained);
  strings(ITEM.wifiSsid, rule.wifi_ssid);
  strings(ITEM.wifiBssid, rule.wifi_bssid);
  if (rule.adguard_domain?.length) {
    if (version < 2) {
      throw new RuleSetFormatError("AdGuard rule items is only supported in version 2 or later");
    }
    w.u8(ITEM.adguardDomain);
    writeSuccinctSet(w, buildAdGuardSet(rule.adguard_domain));
  }
  w.u8(ITEM.final).u8(rule.invert ? 1 : 0);
}

function writeRule(w: ByteWriter, rule: HeadlessRule, version: number): void {
  if (rule.type === "logical") {
    w.u8(1).u8(rule.mode === "and" ? 0 : 1).uvarint(rule.rules.length);
    for (const r of rule.rules) writeRule(w, r, version);
    w.u8(rule.invert ? 1 : 0);
    return;
  }
  writeDefault(w, rule, version);
}

/**
 * Encodes a rule-set as `.srs` with the given version (the source's by default).
 *
 * @throws {RuleSetFormatError} If an item needs a newer version
 */
export function writeSrs(set: PlainRuleSet, version = set.version): Uint8Array {
  const w = new ByteWriter().uvarint(set.rules.length);
  for (const r of set.rules) writeRule(w, r, version);
  const body = deflateSync(w.finish(), { level: 9 });
  const out = new Uint8Array(4 + body.length);
  out.set(MAGIC);
  out[3] = version;
  out.set(body, 4);
  return out;
}

function readDefault(r: ByteReader): DefaultHeadlessRule {
  const rule: DefaultHeadlessRule = {};
  let last = -1;
  for (;;) {
    const id = r.u8();
    switch (id) {
      case ITEM.queryType:
        rule.query_type = r.u16List().map((
          t,
        ) => (KNOWN_QTYPES.has(t) ? typeName(t).replace(/^UNKNOWN_65$/, "HTTPS") : t));
        break;
      case ITEM.network:
        rule.network = r.stringList();
        break;
      case ITEM.domain: {
        const d = dumpDomainSet(readSuccinctSet(r));
        if (d.domain.length) rule.domain = d.domain;
        if (d.domainSuffix.length) rule.domain_suffix = d.domainSuffix;
        break;
      }
      case ITEM.domainKeyword:
        rule.domain_keyword = r.stringList();
        break;
      case ITEM.domainRegex:
        rule.domain_regex = r.stringList();
        break;
      case ITEM.sourceIpCidr:
        rule.source_ip_cidr = rangesToPrefixes(readIpSet(r));
        break;
      case ITEM.ipCidr:
        rule.ip_cidr = rangesToPrefixes(readIpSet(r));
        break;
      case ITEM.sourcePort:
        rule.source_port = r.u16List();
        break;
      case ITEM.sourcePortRange:
        rule.source_port_range = r.stringList();
        break;
      case ITEM.port:
        rule.port = r.u16List();
        break;
      case ITEM.portRange:
        rule.port_range = r.stringList();
        break;
      case ITEM.processName:
        rule.process_name = r.stringList();
        break;
      case ITEM.processPath:
        rule.process_path = r.stringList();
        break;
      case ITEM.processPathRegex:
        rule.process_path_regex = r.stringList();
        break;
      case ITEM.packageName:
        rule.package_name = r.stringList();
        break;
      case ITEM.wifiSsid:
        rule.wifi_ssid = r.stringList();
        break;
      case ITEM.wifiBssid:
        rule.wifi_bssid = r.stringList();
        break;
      case ITEM.adguardDomain:
        rule.adguard_domain = dumpAdGuardSet(readSuccinctSet(r));
        break;
      case ITEM.networkType:
        rule.network_type = r.u8List().map((t) => NETWORK_TYPES[t] ?? String(t));
        break;
      case ITEM.networkIsExpensive:
        rule.network_is_expensive = true;
        break;
      case ITEM.networkIsConstrained:
        rule.network_is_constrained = true;
        break;
      case ITEM.final:
        if (r.bool()) rule.invert = true;
        return rule;
      default:
        throw new RuleSetFormatError(`Unknown rule item type ${id} (after ${last}) at byte ${r.offset - 1}`);
    }
    last = id;
  }
}

function readRule(r: ByteReader, depth: number): HeadlessRule {
  if (depth > 32) throw new RuleSetFormatError("Logical rules nested too deeply");
  const type = r.u8();
  if (type === 0) return readDefault(r);
  if (type !== 1) throw new RuleSetFormatError(`Unknown rule type ${type}`);
  const mode = r.u8();
  if (mode > 1) throw new RuleSetFormatError(`Unknown logical mode ${mode}`);
  const n = r.count(2);
  const rules = Array.from({ length: n }, () => readRule(r, depth + 1));
  const out: HeadlessRule = { type: "logical", mode: mode === 0 ? "and" : "or", rules };
  if (r.bool()) out.invert = true;
  return out;
}

/**
 * Decodes `.srs` bytes, recovering every item in source form.
 *
 * @throws {RuleSetFormatError} If the data is not a valid rule-set
 */
export function readSrs(bytes: Uint8Array): PlainRuleSet {
  if (bytes.length < 4 || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2]) {
    throw new RuleSetFormatError("Invalid sing-box rule-set file: bad magic");
  }
  const version = bytes[3];
  if (version > RULE_SET_VERSION_CURRENT || version < 1) {
    throw new RuleSetFormatError(`Unsupported version: ${version}`);
  }
  let body: Uint8Array;
  try {
    body = inflateSync(bytes.subarray(4), { maxOutputLength: 256 * 1024 * 1024 });
  } catch (e) {
    throw new RuleSetFormatError(`Invalid rule-set compression: ${(e as Error).message}`, { cause: e });
  }
  const r = new ByteReader(body);
  try {
    const n = r.count(2);
    const rules = Array.from({ length: n }, () => readRule(r, 0));
    return { version, rules };
  } catch (e) {
    if (e instanceof RuleSetFormatError) throw e;
    throw new RuleSetFormatError(`Invalid rule-set data: ${(e as Error).message}`, { cause: e });
  }
}

// AdGuard domain items (sing `domain.NewAdGuardMatcher`): labels `\r` (prefix), `\n` (root),
// `\b` (suffix: matches at the end or before a label boundary).
const PREFIX_LABEL = "\r";
const ROOT_LABEL = "\n";
const SUFFIX_LABEL = "\b";

function buildAdGuardSet(lines: readonly string[]) {
  const keys = new Set<string>();
  for (const raw of lines) {
    let line = raw;
    let isSuffix = false;
    let hasStart = false;
    let hasEnd = false;
    if (line.startsWith("||")) {
      line = line.slice(2);
      isSuffix = true;
    } else if (line.startsWith("|")) {
      line = line.slice(1);
      hasStart = true;
    }
    if (line.endsWith("^")) {
      line = line.slice(0, -1);
      hasEnd = true;
    }
    if (isSuffix) line = ROOT_LABEL + line;
    else if (!hasStart) line = PREFIX_LABEL + line;
    if (!hasEnd) {
      if (line.endsWith(".")) line = line.slice(0, -1);
      line += SUFFIX_LABEL;
    }
    keys.add(reverseToBytes(line));
  }
  return buildSuccinctSet([...keys].sort(compareBytes));
}

function dumpAdGuardSet(set: ReturnType<typeof readSuccinctSet>): string[] {
  return succinctKeys(set).map((raw) => {
    let key = bytesToReversed(raw);
    let out = "";
    if (key.startsWith(PREFIX_LABEL)) key = key.slice(1);
    else if (key.startsWith(ROOT_LABEL)) {
      key = key.slice(1);
      out = "||";
    } else out = "|";
    if (key.endsWith(SUFFIX_LABEL)) key = key.slice(0, -1);
    else key += "^";
    return out + key;
  });
}
