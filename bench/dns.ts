/**
 * DNS benchmark (issue #5), rewriting the dns section of bench/RESULTS.md: `dnsperf` against
 * Switchyard's DNS server (router + client cache, upstream dnsmasq) with a warm cache, and against
 * dnsmasq answering the same names itself, in the same run. Rule matching is `bench/rules.ts`.
 *
 * Usage: `deno run -A --unstable-net bench/dns.ts [seconds]` (needs dnsmasq and dnsperf).
 * `bench/dns.ts serve <upstream-port>` is the child mode that runs the Switchyard server.
 */
import { buildDnsRouter } from "../src/dns/build.ts";
import { dnsSchema } from "../src/dns/options.ts";
import { listenDns } from "../src/dns/serve.ts";
import { listenDnsBatch } from "../src/dns/serve_batch.ts";
import { freePort, median } from "./_util.ts";

const NAMES = 1000;

if (Deno.args[0] === "serve") {
  const router = buildDnsRouter(dnsSchema.parse({
    servers: [{ type: "udp", tag: "up", server: "127.0.0.1", server_port: Number(Deno.args[1]) }],
    rules: [{ domain_suffix: ["blocked.test"], action: "reject" }],
  }));
  const batch = Deno.env.get("DNS_BENCH_PLAIN") !== "1";
  const server = batch
    ? listenDnsBatch(router, { hostname: "127.0.0.1", port: 0 })
    : listenDns(router, { hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: server.port }));
  await new Promise(() => {});
}

async function waitDns(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const out = await new Deno.Command("dig", {
      args: ["@127.0.0.1", "-p", String(port), "+short", "+time=1", "+tries=1", "h0.x.test"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (new TextDecoder().decode(out.stdout).trim()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`DNS server on ${port} did not answer`);
}

async function dnsperf(port: number, file: string, seconds: number): Promise<number> {
  const out = await new Deno.Command("dnsperf", {
    args: [
      "-s",
      "127.0.0.1",
      "-p",
      String(port),
      "-d",
      file,
      "-l",
      String(seconds),
      "-c",
      "8",
      "-q",
      "500",
      "-t",
      "2",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /Queries per second:\s+([\d.]+)/.exec(text);
  const lost = /Queries lost:\s+(\d+)/.exec(text);
  if (!m) throw new Error(`dnsperf output not understood:\n${text}${new TextDecoder().decode(out.stderr)}`);
  if (lost && Number(lost[1]) > 0) console.error(`dnsperf on ${port}: ${lost[1]} queries lost`);
  return Number(m[1]);
}

const seconds = Number(Deno.args[0] ?? "10");
const loadAvg = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
const dir = await Deno.makeTempDir({ prefix: "switchyard-bench-dns-" });
const queryFile = `${dir}/queries.txt`;
await Deno.writeTextFile(queryFile, Array.from({ length: NAMES }, (_, i) => `h${i}.x.test A\n`).join(""));

const dnsmasqPort = freePort();
const dnsmasq = new Deno.Command("dnsmasq", {
  args: [
    "-d",
    "-k",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    `--port=${dnsmasqPort}`,
    "--address=/x.test/10.99.9.9",
    "--local-ttl=3600",
    "--cache-size=10000",
    "--dns-forward-max=1000",
  ],
  stdout: "null",
  stderr: "null",
}).spawn();
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "--unstable-net", new URL(import.meta.url).pathname, "serve", String(dnsmasqPort)],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.getReader();
const first = new TextDecoder().decode((await reader.read()).value);
reader.releaseLock();
const syPort = JSON.parse(first.split("\n")[0]).port as number;

const rows: { name: string; qps: number[] }[] = [{ name: "switchyard (warm cache)", qps: [] }, {
  name: "dnsmasq 2.90",
  qps: [],
}];
try {
  await waitDns(dnsmasqPort);
  await waitDns(syPort);
  await dnsperf(syPort, queryFile, 2); // warm the cache with every name
  for (let run = 0; run < 3; run++) {
    rows[0].qps.push(await dnsperf(syPort, queryFile, seconds));
    rows[1].qps.push(await dnsperf(dnsmasqPort, queryFile, seconds));
  }
} finally {
  child.kill("SIGTERM");
  await child.stdout.cancel().catch(() => {});
  await child.status;
  dnsmasq.kill("SIGTERM");
  await dnsmasq.status;
  await Deno.remove(dir, { recursive: true });
}

const sy = median(rows[0].qps);
const dm = median(rows[1].qps);
const date = new Date().toISOString().slice(0, 10);
const section = `<!-- dns:start -->
## DNS server and rule matching (issue #5)

\`deno run -A --unstable-net bench/dns.ts ${seconds}\`, ${date}, 2 vCPU shared by dnsperf and the server
(load average ${loadAvg} at the start: other work on the machine makes single runs vary by ±30 %).
dnsperf 2.x (\`-c 8 -q 500 -t 2\`, ${seconds} s per run, 3 runs each, alternating), ${NAMES} names \`hN.x.test A\`.
Switchyard: \`listenDnsBatch\` (recvmmsg/sendmmsg via FFI) + DNS router + client cache (warmed), upstream dnsmasq;
dnsmasq answers the same names
from \`--address\`.

| server | queries/s (median) | runs | switchyard ÷ this |
|---|---|---|---|
| switchyard (warm cache) | ${sy.toFixed(0)} | ${rows[0].qps.map((q) => q.toFixed(0)).join(", ")} | 1.00× |
| dnsmasq 2.90 | ${dm.toFixed(0)} | ${rows[1].qps.map((q) => q.toFixed(0)).join(", ")} | ${
  (sy / dm).toFixed(2)
}× |

Rule matching: see the rules section (\`bench/rules.ts\`; it replaced the figures this section had).
<!-- dns:end -->`;
const path = new URL("./RESULTS.md", import.meta.url).pathname;
let doc = await Deno.readTextFile(path).catch(() => "# Benchmark results\n");
doc = /<!-- dns:start -->[\s\S]*<!-- dns:end -->/.test(doc)
  ? doc.replace(/<!-- dns:start -->[\s\S]*<!-- dns:end -->/, section)
  : doc.trimEnd() + "\n\n" + section + "\n";
await Deno.writeTextFile(path, doc);
console.log(section);
