/**
 * Rule matching benchmark (issue #5, target: 10,000 `domain_suffix` rules, ≥ 1 M matches/s),
 * rewriting the rules section of bench/RESULTS.md. Each figure is `Router.decide()` calls per
 * second (match context, rule search, decision) over 4096 destinations, half of them hits, median
 * of 5 runs:
 *
 * 1. 10,000 route rules with one `domain_suffix` each (the router's domain index);
 * 2. one route rule with 10,000 `domain_suffix` entries;
 * 3. one route rule `rule_set: [s]`, the set holding one rule with the 10,000 suffixes;
 * 4. the same, the set holding 10,000 one-suffix rules;
 * 5. for reference, case 1 walked rule by rule without the index.
 *
 * Usage: `deno run -A bench/rules.ts`
 */
import type { Metadata, Outbound } from "../src/adapter/types.ts";
import { routeRuleSchema } from "../src/config/route.ts";
import { compileRule, type Rule } from "../src/route/rule/compile.ts";
import { matchContext } from "../src/route/rule/item.ts";
import { CompiledRuleSet } from "../src/route/rule_set/match.ts";
import { Router } from "../src/route/router.ts";

const N = 10_000;
const suffixes = Array.from({ length: N }, (_, i) => `site${i}.example${i % 97}.com`);
const probes: Metadata[] = Array.from({ length: 4096 }, (_, i) => {
  const host = i % 2 === 0
    ? `www.a${i}.site${(i * 7919) % N}.example${((i * 7919) % N) % 97}.com`
    : `miss${i}.other${i}.net`;
  return {
    inbound: "in",
    inboundType: "mixed",
    network: "tcp",
    source: { host: "127.0.0.1", port: 40000 },
    destination: { host, port: 443 },
  };
});

const outbound = (tag: string): Outbound => ({
  type: "direct",
  tag,
  network: ["tcp", "udp"],
  dial: () => Promise.reject(new Error("unused")),
  listenPacket: () => Promise.reject(new Error("unused")),
});
const outbounds = new Map([["direct", outbound("direct")], ["block", outbound("block")]]);
const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function router(rules: Record<string, unknown>[], sets: Record<string, CompiledRuleSet> = {}): Router {
  const compiled: Rule[] = rules.map((r, i) =>
    compileRule(routeRuleSchema.parse(r), `route.rules[${i}]`, {
      hasOutbound: (t) => outbounds.has(t),
      ruleSet: (t) => sets[t],
    })
  );
  return new Router({ rules: compiled, outbounds, final: "direct", logger });
}

const RUNS = 5;

/** Calls per second of `fn`, median of {@linkcode RUNS} runs of `n` calls after a warm-up. */
function rate(n: number, fn: (i: number) => unknown): { median: number; runs: number[] } {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    runs.push(n / ((performance.now() - t0) / 1000));
  }
  return { median: [...runs].sort((a, b) => a - b)[RUNS >> 1]!, runs };
}

function check(r: Router): Router {
  const hits = probes.filter((m) => {
    const d = r.decide(m);
    return d.kind === "route" && d.outbound.tag === "block";
  }).length;
  if (hits !== probes.length / 2) throw new Error(`expected ${probes.length / 2} hits, got ${hits}`);
  return r;
}

const oneSet = new CompiledRuleSet({ version: 3, rules: [{ domain_suffix: suffixes }] });
const manySet = new CompiledRuleSet({ version: 3, rules: suffixes.map((s) => ({ domain_suffix: [s] })) });
const cases: [string, Router][] = [
  [
    `${N} route rules, one \`domain_suffix\` each`,
    router(suffixes.map((s) => ({ domain_suffix: s, outbound: "block" }))),
  ],
  [
    `one route rule with ${N} \`domain_suffix\` entries`,
    router([{ domain_suffix: suffixes, outbound: "block" }]),
  ],
  [
    `\`rule_set\`: one rule with ${N} suffixes`,
    router([{ rule_set: "s", outbound: "block" }], { s: oneSet }),
  ],
  [`\`rule_set\`: ${N} one-suffix rules`, router([{ rule_set: "s", outbound: "block" }], { s: manySet })],
];
const rows = cases.map(([name, r]) => {
  check(r);
  return { name, ...rate(2_000_000, (i) => r.decide(probes[i & 4095]!)) };
});

// Reference: the same 10,000 rules tested one by one (the walk the index replaces).
const linear = suffixes.map((s, i) =>
  compileRule(routeRuleSchema.parse({ domain_suffix: s, outbound: "block" }), `route.rules[${i}]`, {
    hasOutbound: () => true,
  }).matcher
);
const walk = rate(2000, (i) => {
  const ctx = matchContext(probes[i & 4095]!);
  return linear.findIndex((m) => m.match(ctx));
});

const fmt = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(1)} k`);
const date = new Date().toISOString().slice(0, 10);
const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
const section = `<!-- rules:start -->
## Rule matching (issue #5)

\`deno run -A bench/rules.ts\`, ${date}, single-threaded on 2 vCPU shared with other work (load average ${load} at
the start, so single runs vary). \`Router.decide()\` calls per second over 4096 destinations, half of them matching
one of ${N} suffixes; median of ${RUNS} runs of 2 M calls (the reference: ${RUNS} runs of 2000).
Target: ${N} \`domain_suffix\` rules, ≥ 1 M matches/s.

| rules | decisions/s (median) | runs |
|---|---|---|
${rows.map((r) => `| ${r.name} | **${fmt(r.median)}** | ${r.runs.map(fmt).join(", ")} |`).join("\n")}
| reference: the ${N} rules tested one by one (no index) | ${fmt(walk.median)} | ${
  walk.runs.map(fmt).join(", ")
} |
<!-- rules:end -->`;

const path = new URL("./RESULTS.md", import.meta.url).pathname;
let doc = await Deno.readTextFile(path).catch(() => "# Benchmark results\n");
const re = /<!-- rules:start -->[\s\S]*<!-- rules:end -->/;
doc = re.test(doc) ? doc.replace(re, section) : doc.trimEnd() + "\n\n" + section + "\n";
await Deno.writeTextFile(path, doc);
console.log(section);
