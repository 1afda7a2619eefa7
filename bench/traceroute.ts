/**
 * Traceroute wall time in the namespace lab (client → 3 routers → target, plain veth), same lab,
 * same run: `switchyard trace -P icmp -q 3 -Q 0` against Debian `traceroute -I -q 3` and `mtr -r`.
 * Also a lab where router 2 drops its Time Exceeded messages (a silent hop).
 * Rewrites the traceroute section of bench/RESULTS.md. Needs root.
 *
 * Usage: deno run -A bench/traceroute.ts [runs=5]
 * @module
 */
import { Lab, TARGET_V4 } from "../tests/traceroute/_lab.ts";

const RUNS = Number(Deno.args[0] ?? 5);
const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function timeIt(lab: Lab, args: string[]): Promise<{ ms: number; ok: boolean; out: string }> {
  const t0 = performance.now();
  const r = await lab.exec(args);
  return { ms: performance.now() - t0, ok: r.code === 0, out: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function hopsOf(tool: string, out: string): string {
  if (tool === "switchyard") {
    const d = JSON.parse(out);
    return d.traceroute.runs[0].hops.map((h: { ip_address: string }) => h.ip_address || "*").join(" ");
  }
  const ips = out.split("\n").slice(1).map((l) =>
    /(\d+\.\d+\.\d+\.\d+|\?\?\?|\*)/.exec(l.replace(/^\s*\d+\.\|--\s*/, ""))?.[1]
  )
    .filter(Boolean);
  return ips.map((x) => x === "???" ? "*" : x).join(" ");
}

const TOOLS: [string, string[]][] = [
  ["switchyard", [
    Deno.execPath(),
    "run",
    "-A",
    "--no-lock",
    MAIN,
    "trace",
    "-P",
    "icmp",
    "-q",
    "3",
    "-Q",
    "0",
    TARGET_V4,
  ]],
  ["traceroute", ["traceroute", "-n", "-I", "-q", "3", TARGET_V4]],
  ["mtr", ["mtr", "-n", "-r", TARGET_V4]],
];

async function scenario(silent: boolean) {
  const lab = await Lab.up();
  const rows: { tool: string; ms: number[]; hops: string }[] = TOOLS.map(([tool]) => ({
    tool,
    ms: [],
    hops: "",
  }));
  try {
    if (silent) await lab.silence(2);
    // warm-up (page cache, deno module cache), not counted
    for (const [, args] of TOOLS.slice(0, 2)) await timeIt(lab, args);
    for (let i = 0; i < RUNS; i++) {
      for (const [k, [tool, args]] of TOOLS.entries()) {
        if (tool === "mtr" && i > 0) continue; // 10 s per run: once is enough
        const r = await timeIt(lab, args);
        if (!r.ok) throw new Error(`${tool} failed`);
        rows[k].ms.push(r.ms);
        rows[k].hops = hopsOf(tool, r.out);
      }
    }
  } finally {
    await lab.down();
  }
  return rows;
}

const plain = await scenario(false);
const silent = await scenario(true);
const base = (rows: typeof plain) => median(rows.find((r) => r.tool === "traceroute")!.ms);
const table = (rows: typeof plain) =>
  rows.map((r) =>
    `| ${r.tool} | ${median(r.ms).toFixed(0)} | ${r.ms.map((x) => x.toFixed(0)).join(" ")} | ${
      (median(r.ms) / base(rows)).toFixed(2)
    }× | ${r.hops} |`
  ).join("\n");
const date = new Date().toISOString().slice(0, 10);
const section = `<!-- traceroute:start -->
## Traceroute wall time in the namespace lab (issue #3)

\`deno run -A bench/traceroute.ts ${RUNS}\`, ${date}, as root; client → 3 routers → target over plain veth
(RTT ≈ 0.1 ms), ICMP rate limits off. Wall time of the whole command, including process start-up
(switchyard: \`deno run\` of main.ts). Commands: \`switchyard trace -P icmp -q 3 -Q 0\`,
\`traceroute -n -I -q 3\` (Debian traceroute 2.1.2), \`mtr -n -r\` (mtr-tiny 0.95, 10 cycles, run once).

Plain path:

| tool | ms (median) | runs | ÷ traceroute | hops |
|---|---|---|---|---|
${table(plain)}

Router 2 drops its Time Exceeded (silent hop):

| tool | ms (median) | runs | ÷ traceroute | hops |
|---|---|---|---|---|
${table(silent)}
<!-- traceroute:end -->`;
const path = new URL("./RESULTS.md", import.meta.url).pathname;
let doc = await Deno.readTextFile(path).catch(() => "# Benchmark results\n");
doc = /<!-- traceroute:start -->[\s\S]*<!-- traceroute:end -->/.test(doc)
  ? doc.replace(/<!-- traceroute:start -->[\s\S]*<!-- traceroute:end -->/, section)
  : `${doc.trimEnd()}\n\n${section}\n`;
await Deno.writeTextFile(path, doc);
console.log(section);
