/**
 * Go `time.Duration` text: parsing (`"500ms"`, `"2m"`, `"1h30m"`) and `String()` formatting
 * (`"2m0s"`, `"5s"`, `"1.5s"`), as used by paniq profiles and configs (paniq.md §4).
 *
 * @module
 */

const UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3,
  "μs": 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Parses a Go duration string into milliseconds (fractions kept).
 *
 * @throws {SyntaxError} If the text is not a Go duration
 */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new SyntaxError(`Cannot parse duration "${text}": empty`);
  let totalNs = 0;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === "" || m[1] === ".") {
      throw new SyntaxError(`Cannot parse duration "${text}": invalid duration`);
    }
    const unit = UNITS_NS[m[2]];
    if (unit === undefined) throw new SyntaxError(`Cannot parse duration "${text}": unknown unit "${m[2]}"`);
    totalNs += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return sign * totalNs / 1e6;
}

function fmtFrac(v: number, prec: number): string {
  // v is an integer count of the smaller unit; print v / 10^prec with trailing zeros trimmed.
  const int = Math.floor(v / 10 ** prec);
  let frac = String(v % 10 ** prec).padStart(prec, "0").replace(/0+$/, "");
  if (prec === 0) frac = "";
  return frac ? `${int}.${frac}` : `${int}`;
}

/** Formats milliseconds like Go's `Duration.String()`. */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  if (neg) ns = -ns;
  let out: string;
  if (ns < 1e9) {
    if (ns < 1e3) out = `${ns}ns`;
    else if (ns < 1e6) out = `${fmtFrac(ns, 3)}µs`;
    else out = `${fmtFrac(ns, 6)}ms`;
  } else {
    const h = Math.floor(ns / 3600e9);
    ns -= h * 3600e9;
    const m = Math.floor(ns / 60e9);
    ns -= m * 60e9;
    const sec = fmtFrac(ns, 9) + "s";
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}
