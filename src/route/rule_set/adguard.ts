/**
 * AdGuard DNS filter conversion (`rule-set convert --type adguard`, sing-box
 * `common/convertor/adguard`): plain domains, hosts lines with an unspecified address, `||`,
 * `|`, `^`, `*`, `@@` exceptions, `/regex/` and `$important`. Unsupported lines (paths, queries,
 * cosmetic filters, other modifiers, IP rules) are skipped and counted.
 *
 * @module
 */
import { isIP } from "../../common/ip.ts";
import type { HeadlessRule } from "./source.ts";

interface Line {
  rule: string;
  rawDomain?: boolean;
  exclude?: boolean;
  suffix?: boolean;
  start?: boolean;
  end?: boolean;
  regexp?: boolean;
  important?: boolean;
}

/** Go's `isDomainName` as sing uses it (letters, digits, `-`, `_`; not all-numeric). */
export function isDomainName(s: string): boolean {
  if (!s || s.length > 254) return false;
  let last = ".";
  let nonNumeric = false;
  let partLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (/[a-zA-Z_]/.test(c)) {
      nonNumeric = true;
      partLen++;
    } else if (/[0-9]/.test(c)) partLen++;
    else if (c === "-") {
      if (last === ".") return false;
      partLen++;
      nonNumeric = true;
    } else if (c === ".") {
      if (last === "." || last === "-") return false;
      if (partLen > 63 || partLen === 0) return false;
      partLen = 0;
    } else return false;
    last = c;
  }
  if (last === "-" || partLen > 63) return false;
  return nonNumeric;
}

function isUnspecified(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::" || /^0*:?(0*:)*0*$/.test(ip) && isIP(ip) === 6;
}

/** Conversion result: the rules and how many lines were skipped. */
export interface AdGuardConversion {
  rules: HeadlessRule[];
  parsed: number;
  ignored: number;
}

function isIpCidrLike(line: string): boolean {
  let s = line;
  let prefix = false;
  if (s.endsWith(".")) {
    prefix = true;
    s = s.slice(0, -1);
  }
  const parts = s.split(".");
  if (parts.length > 4 || (parts.length < 4 && !prefix)) return false;
  return parts.every((p) => /^\d+$/.test(p) && Number(p) <= 255);
}

/**
 * Converts AdGuard filter text to headless rules.
 *
 * @throws {SyntaxError} If no line is usable
 */
export function convertAdGuard(text: string): AdGuardConversion {
  const lines: Line[] = [];
  let ignored = 0;
  next: for (const raw of text.split(/\r?\n/)) {
    let line = raw;
    if (!line || line.startsWith("!") || line.startsWith("#")) continue;
    if (isDomainName(line)) {
      lines.push({ rule: line, rawDomain: true });
      continue;
    }
    const sp = line.indexOf(" ");
    if (sp > 0 && isIP(line.slice(0, sp))) {
      if (isUnspecified(line.slice(0, sp))) {
        const domain = line.slice(sp + 1);
        if (isDomainName(domain)) lines.push({ rule: domain, rawDomain: true, start: true, end: true });
        else ignored++;
      }
      continue;
    }
    if (line.endsWith("|")) line = line.slice(0, -1);
    const l: Line = { rule: "" };
    if (!line.startsWith("/") && line.includes("$")) {
      const params = line.slice(line.indexOf("$") + 1);
      for (const param of params.split(",")) {
        const [name, value] = param.split("=");
        let ok = false;
        if (name === "important") {
          ok = true;
          l.important = true;
        } else if (name === "dnsrewrite" && value !== undefined && isIP(value) && isUnspecified(value)) {
          ok = true;
        }
        if (!ok) {
          ignored++;
          continue next;
        }
      }
      line = line.slice(0, line.indexOf("$"));
    }
    if (line.startsWith("@@")) {
      line = line.slice(2);
      l.exclude = true;
    }
    if (line.endsWith("|")) line = line.slice(0, -1);
    if (line.startsWith("||")) {
      line = line.slice(2);
      l.suffix = true;
    } else if (line.startsWith("|")) {
      line = line.slice(1);
      l.start = true;
    }
    if (line.endsWith("^")) {
      line = line.slice(0, -1);
      l.end = true;
    }
    if (line.startsWith("/") && line.endsWith("/") && line.length > 1) {
      line = line.slice(1, -1);
      if (/^[\d.\\^$]+$/.test(line) && /\d/.test(line) && !/[a-z]/i.test(line)) {
        ignored++;
        continue;
      }
      l.regexp = true;
    } else {
      if (line.includes("://")) {
        line = line.slice(line.indexOf("://") + 3);
        l.suffix = true;
      }
      if (/[/?&[\]()!#~]/.test(line) || line === "") {
        ignored++;
        continue;
      }
      let check = line.startsWith(".") || line.startsWith("-") ? "r" + line : line;
      check = check.replaceAll("*", "x");
      if (!isDomainName(check) || isIpCidrLike(line)) {
        ignored++;
        continue;
      }
    }
    l.rule = line;
    lines.push(l);
  }
  if (!lines.length) throw new SyntaxError("AdGuard rule-set is empty or all rules are unsupported");
  if (lines.every((l) => l.rawDomain)) {
    return { rules: [{ domain: lines.map((l) => l.rule) }], parsed: lines.length, ignored };
  }
  const text2 = (l: Line) => (l.suffix ? "||" : l.start ? "|" : "") + l.rule + (l.end ? "^" : "");
  const pick = (important: boolean, regexp: boolean, exclude: boolean) =>
    lines.filter((l) => !!l.important === important && !!l.regexp === regexp && !!l.exclude === exclude).map(
      text2,
    );
  const rawRegex = (important: boolean, exclude: boolean) =>
    lines.filter((l) => !!l.important === important && l.regexp && !!l.exclude === exclude).map((l) =>
      l.rule
    );
  const def = (adguard: string[], regex: string[], invert = false): HeadlessRule => {
    const r: HeadlessRule = {};
    if (adguard.length) r.adguard_domain = adguard;
    if (regex.length) r.domain_regex = regex;
    if (invert) r.invert = true;
    return r;
  };
  let current: HeadlessRule = def(pick(false, false, false), rawRegex(false, false));
  const exclude = pick(false, false, true);
  const excludeRegex = rawRegex(false, true);
  if (exclude.length || excludeRegex.length) {
    current = { type: "logical", mode: "and", rules: [def(exclude, excludeRegex, true), current] };
  }
  const important = pick(true, false, false);
  const importantRegex = rawRegex(true, false);
  if (important.length || importantRegex.length) {
    current = { type: "logical", mode: "or", rules: [def(important, importantRegex), current] };
  }
  const importantExclude = pick(true, false, true);
  const importantExcludeRegex = rawRegex(true, true);
  if (importantExclude.length || importantExcludeRegex.length) {
    current = {
      type: "logical",
      mode: "and",
      rules: [def(importantExclude, importantExcludeRegex, true), current],
    };
  }
  return { rules: [current], parsed: lines.length, ignored };
}
