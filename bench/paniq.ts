/**
 * paniq throughput and handshake bench: N MiB (default 1024) through paniq (client ↔ server on
 * loopback, same process, example profile without preamble delay) against a raw Deno QUIC
 * stream in the same run, plus the time to the first byte through a fresh tunnel.
 *
 * ```sh
 * deno run -A --unstable-net bench/paniq.ts [MiB]
 * ```
 * @module
 */
import { parseProfile, resolveClient, resolveServer } from "../src/protocol/paniq/profile.ts";
import { PaniqMetrics } from "../src/protocol/paniq/metrics.ts";
import { PaniqServer } from "../src/transport/paniq/server.ts";
import { PaniqClient } from "../src/transport/paniq/client.ts";
import { generateServerCertificate } from "../src/transport/paniq/cert.ts";
import { getLogger } from "../src/common/log.ts";
import type { Stream } from "../src/adapter/types.ts";

const MIB = Number(Deno.args[0] ?? 1024);
const TOTAL = MIB * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x5a);
const profileJson = JSON.parse(
  await Deno.readTextFile(new URL("../examples/paniq-profile.json", import.meta.url)),
);
profileJson.preamble_delay_ms = 0;
profileJson.preamble_jitter_ms = 0;
profileJson.obfuscation.rate_limit_pps = 0;

async function sink(s: Stream): Promise<number> {
  const buf = new Uint8Array(256 * 1024);
  let n = 0;
  for (;;) {
    const r = await s.read(buf);
    if (r === null) return n;
    n += r;
  }
}

/** Per-thread CPU ticks `[utime, stime]` of this process, by thread name. */
function threadTicks(): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const t of Deno.readDirSync("/proc/self/task")) {
    try {
      const st = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
      const name = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      out.set(`${name}#${t.name}`, [Number(f[11]), Number(f[12])]);
    } catch { /* gone */ }
  }
  return out;
}

function cpuReport(label: string, before: Map<string, [number, number]>, seconds: number): void {
  if (!Deno.env.get("PANIQ_BENCH_DEBUG")) return;
  const hz = 100;
  const rows: string[] = [];
  let total = 0;
  for (const [k, [u, s]] of threadTicks()) {
    const [u0, s0] = before.get(k) ?? [0, 0];
    const d = u - u0 + s - s0;
    total += d;
    if (d > 2) {
      const sys = ((s - s0) / d * 100).toFixed(0);
      rows.push(
        `${k}=${(d / hz / seconds * 100).toFixed(0)}% (${
          (d / hz * 1000 / MIB).toFixed(2)
        } ms/MiB, ${sys}% sys)`,
      );
    }
  }
  console.log(
    `${label} cpu: total ${(total / hz / seconds * 100).toFixed(0)}% of one core, ` +
      `${(total / hz * 1000 / MIB).toFixed(2)} ms per MiB; ${rows.join(" ")}`,
  );
}

async function pushAndTime(
  label: string,
  write: (b: Uint8Array) => Promise<unknown>,
  done: Promise<number>,
  close: () => Promise<void>,
) {
  const t0 = performance.now();
  const ticks = threadTicks();
  for (let sent = 0; sent < TOTAL; sent += CHUNK.length) await write(CHUNK);
  await close();
  const got = await done;
  const s = (performance.now() - t0) / 1000;
  cpuReport(label, ticks, s);
  return { mbps: got / s / 1e6, got };
}

// Raw Deno QUIC.
const { certPem, keyPem, der } = await generateServerCertificate();
const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>));
const ep = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
const listener = ep.listen({ alpnProtocols: ["raw"], cert: certPem, key: keyPem });
let rawDone!: Promise<number>;
const rawAccepted = (async () => {
  const conn = await listener.accept();
  const reader = (await conn.incomingBidirectionalStreams.getReader().read()).value!;
  const r = reader.readable.getReader();
  rawDone = (async () => {
    let n = 0;
    for (;;) {
      const x = await r.read();
      if (x.done) return n;
      n += x.value.length;
    }
  })();
})();
const rc = await Deno.connectQuic({
  hostname: "127.0.0.1",
  port: (ep.addr as Deno.NetAddr).port,
  alpnProtocols: ["raw"],
  serverCertificateHashes: [{ algorithm: "sha-256", value: hash }],
} as Deno.ConnectQuicOptions<false>);
const rs = await rc.createBidirectionalStream();
const w = rs.writable.getWriter();
await w.write(new Uint8Array([1]));
await rawAccepted;
const raw = await pushAndTime("raw", (b) => w.write(b), rawDone, () => w.close());
rc.close();
ep.close();

// paniq.
const log = getLogger("bench");
const p = parseProfile(profileJson);
const sm = new PaniqMetrics("proxy");
let paniqDone!: Promise<number>;
let gotStream!: () => void;
const streamReady = new Promise<void>((r) => gotStream = r);
const server = await PaniqServer.listen(resolveServer(p), {
  hostname: "127.0.0.1",
  port: 0,
  metrics: sm,
  log,
  handler: async (req) => {
    const s = await req.accept();
    paniqDone = sink(s);
    gotStream();
    await paniqDone;
  },
});
p.proxy_addr = `127.0.0.1:${server.addr.port}`;
const cm = new PaniqMetrics("socks");
const client = new PaniqClient(resolveClient(p), {
  metrics: cm,
  log,
  serverCertificateHashes: [server.certificateHash],
});
const h0 = performance.now();
const ps = await client.open({ host: "127.0.0.1", port: 9 });
const handshakeMs = performance.now() - h0;
await streamReady;
const paniq = await pushAndTime("paniq", (b) => ps.write(b), paniqDone, () => ps.closeWrite());
if (Deno.env.get("PANIQ_BENCH_DEBUG")) {
  // Per-socket receive-buffer drops (last column of /proc/net/udp), local port in hex.
  for (const line of (await Deno.readTextFile("/proc/net/udp")).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 12 && f[12] !== "0") {
      console.log(`udp drops: port ${parseInt(f[1].split(":")[1], 16)} drops ${f[12]}`);
    }
  }
  console.log(`ports: server ${server.addr.port}`);
  await new Promise((r) => setTimeout(r, 300)); // the shim thread posts counters every 250 ms
  const nz = (c: object) => JSON.stringify(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0)));
  console.log(`client envelope: ${nz(cm.envelope)}`);
  console.log(`server envelope: ${nz(sm.envelope)}`);
}
client.close();
server.close();
if (Deno.env.get("PANIQ_BENCH_DEBUG")) await new Promise((r) => setTimeout(r, 300));

console.log(`raw QUIC : ${raw.mbps.toFixed(1)} MB/s (${MIB} MiB)`);
console.log(
  `paniq    : ${paniq.mbps.toFixed(1)} MB/s (${MIB} MiB), ratio ${(paniq.mbps / raw.mbps).toFixed(2)}`,
);
console.log(`handshake: ${handshakeMs.toFixed(1)} ms to the proxy reply through a fresh tunnel`);
Deno.exit(0);
