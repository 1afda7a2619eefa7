/**
 * HTTP/3 benchmarks (issue #7), rewriting the http3 section of bench/RESULTS.md:
 *
 * 1. 200 MiB download, Switchyard client ← ngtcp2 `gtlsserver` vs `gtlsclient` ← `gtlsserver`.
 * 2. 200 MiB download, `gtlsclient` ← Switchyard server vs `gtlsclient` ← `gtlsserver`.
 * 3. QPACK encode + decode of realistic request and response header sets, header blocks/s.
 *
 * Every download includes connection setup (a new QUIC connection per run; the ngtcp2 client
 * figures include its process start). Runs alternate between the compared pairs. Needs the
 * Debian packages ngtcp2-client and ngtcp2-server, and openssl.
 *
 * ```sh
 * deno run -A --unstable-net bench/http3.ts [runs=3] [--no-write]
 * ```
 * @module
 */
import { cpuUsage } from "node:process";
import { H3Client } from "../src/http3/client.ts";
import { fileHandler } from "../src/http3/file_server.ts";
import { serveH3 } from "../src/http3/server.ts";
import { qpackRate, REQUEST, RESPONSE } from "./_qpack.ts";
import { testCerts } from "../tests/http3/_certs.ts";
import {
  NGTCP2_CLIENT,
  NGTCP2_SERVER,
  runNgtcp2Client,
  startNgtcp2Server,
  writeTestFile,
} from "../tests/http3/_ngtcp2.ts";

const runs = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 3);
const write = !Deno.args.includes("--no-write");
const SIZE = 200 * 1024 * 1024;
const MB = (bytes: number, s: number) => bytes / s / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!NGTCP2_CLIENT || !NGTCP2_SERVER) {
  console.error(
    "bench/http3.ts needs gtlsclient and gtlsserver: apt-get install ngtcp2-client ngtcp2-server",
  );
  Deno.exit(1);
}

const load = Deno.loadavg()[0];
const certs = await testCerts();
const dir = await Deno.makeTempDir({ prefix: "sy-h3-bench-" });
await writeTestFile(`${dir}/big.bin`, SIZE);

// ---- downloads ---------------------------------------------------------------------------------
const ngServer = await startNgtcp2Server(dir, certs.keyFile, certs.certFile, certs.caPem);
const syServer = serveH3(
  { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
  fileHandler(dir),
);

/** Switchyard client, fresh connection, body read and dropped. */
async function syClientDownload(port: number): Promise<number> {
  const t0 = performance.now();
  const client = new H3Client({ caCerts: [certs.caPem], serverName: "localhost" });
  const res = await client.fetch(`https://127.0.0.1:${port}/big.bin`);
  let n = 0;
  for await (const chunk of res.body!) n += chunk.length;
  const s = (performance.now() - t0) / 1000;
  await client.close();
  if (n !== SIZE) throw new Error(`Switchyard client got ${n} of ${SIZE} bytes`);
  return MB(SIZE, s);
}

/** gtlsclient, body discarded (-q, no --download). */
async function ngClientDownload(port: number): Promise<number> {
  const r = await runNgtcp2Client(port, [`https://localhost:${port}/big.bin`], ["-q"], 120000);
  if (r.code !== 0) throw new Error(`gtlsclient failed (${r.code}): ${r.output.slice(-500)}`);
  return MB(SIZE, r.seconds);
}

/** CPU seconds (user + system, all threads) a process has used: /proc/<pid>/stat fields 14-15. */
function procCpu(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** This process's CPU seconds (the Switchyard server runs in it). */
const selfCpu = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Runs `download` and returns its MB/s and the CPU seconds `cpu` advanced meanwhile. */
async function withCpu(download: () => Promise<number>, cpu: () => number): Promise<[number, number]> {
  const c0 = cpu();
  const rate = await download();
  return [rate, cpu() - c0];
}

const rows = { syFromNg: [] as number[], ngFromNg: [] as number[], ngFromSy: [] as number[] };
const serverCpu = { ng: [] as number[], sy: [] as number[] };
for (let i = 0; i < runs; i++) {
  rows.syFromNg.push(await syClientDownload(ngServer.port));
  const [ngRate, ngCpu] = await withCpu(() => ngClientDownload(ngServer.port), () => procCpu(ngServer.pid));
  const [syRate, syCpu] = await withCpu(() => ngClientDownload(syServer.addr.port), selfCpu);
  rows.ngFromNg.push(ngRate);
  rows.ngFromSy.push(syRate);
  serverCpu.ng.push(ngCpu);
  serverCpu.sy.push(syCpu);
  console.error(
    `run ${i + 1}: sy←ng ${rows.syFromNg[i].toFixed(0)}  ng←ng ${ngRate.toFixed(0)}  ng←sy ${
      syRate.toFixed(0)
    } MB/s; server CPU ngtcp2 ${ngCpu.toFixed(2)} s, Switchyard ${syCpu.toFixed(2)} s`,
  );
}
await ngServer.stop();
await syServer.shutdown();
await Deno.remove(dir, { recursive: true });

// ---- QPACK -----------------------------------------------------------------------------------------
const qpackReq: number[] = [];
const qpackRes: number[] = [];
for (let i = 0; i < runs; i++) {
  qpackReq.push(qpackRate(REQUEST, 3, 300000));
  qpackRes.push(qpackRate(RESPONSE, 2, 300000));
}

// ---- report ------------------------------------------------------------------------------------------
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" ");
const fmt2 = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
const cpuNg = median(serverCpu.ng);
const cpuSy = median(serverCpu.sy);
const syNg = median(rows.syFromNg);
const ngNg = median(rows.ngFromNg);
const ngSy = median(rows.ngFromSy);
const date = new Date().toISOString().slice(0, 10);
const section = `<!-- http3:start -->
## HTTP/3 over Deno QUIC (issue #7)

\`deno run -A --unstable-net bench/http3.ts ${runs}\`, ${date}, ${
  SIZE / 1048576
} MiB file per download, ${runs} runs
each (alternating), loopback, 2 vCPU shared by client and server (1-minute load average ${
  load.toFixed(1)
} at the start:
other work on the machine makes single runs vary widely). Each download opens a new connection; the ngtcp2 client
figures include its process start. Peer: Debian ngtcp2 0.12.1 / nghttp3 0.8.0 (\`gtlsclient -q\`, \`gtlsserver -q\`).

| download | MB/s (median) | runs | ratio | target |
|---|---|---|---|---|
| Switchyard client ← ngtcp2 server | ${syNg.toFixed(0)} | ${fmt(rows.syFromNg)} | ${
  (syNg / ngNg).toFixed(2)
}× of ngtcp2←ngtcp2 | ≥ 1.0× |
| ngtcp2 client ← ngtcp2 server | ${ngNg.toFixed(0)} | ${fmt(rows.ngFromNg)} | 1.00× | |
| ngtcp2 client ← Switchyard server | ${ngSy.toFixed(0)} | ${fmt(rows.ngFromSy)} | ${
  (ngSy / ngNg).toFixed(2)
}× of ngtcp2←ngtcp2 | ≥ 0.8× |

Server CPU per download (user + system seconds over all threads of the serving process, the measure that
load on the machine disturbs least): ngtcp2 ${cpuNg.toFixed(2)} s (runs: ${fmt2(serverCpu.ng)}), Switchyard ${
  cpuSy.toFixed(2)
} s (runs: ${fmt2(serverCpu.sy)}), so Switchyard serves at ${
  (cpuNg / cpuSy).toFixed(2)
}× ngtcp2's bytes per CPU second.

QPACK encode + decode on one core (dynamic table 4096 bytes, instructions and acknowledgments exchanged after every
block, one field changing per block): request set of ${REQUEST.length} fields **${
  (median(qpackReq) / 1000).toFixed(0)
}k blocks/s** (runs: ${
  qpackReq.map((x) => (x / 1000).toFixed(0) + "k").join(", ")
}), response set of ${RESPONSE.length} fields
**${(median(qpackRes) / 1000).toFixed(0)}k blocks/s** (runs: ${
  qpackRes.map((x) => (x / 1000).toFixed(0) + "k").join(", ")
}); target ≥ 200k.
<!-- http3:end -->`;
console.log(section);
if (write) {
  const path = new URL("./RESULTS.md", import.meta.url).pathname;
  let doc = await Deno.readTextFile(path).catch(() => "# Benchmark results\n");
  doc = /<!-- http3:start -->[\s\S]*<!-- http3:end -->/.test(doc)
    ? doc.replace(/<!-- http3:start -->[\s\S]*<!-- http3:end -->/, section)
    : doc.trimEnd() + "\n\n" + section + "\n";
  await Deno.writeTextFile(path, doc);
}
