/**
 * Proxy-protocol benchmark (issue #6): downloads SIZE bytes (default 1 GiB) with curl through
 * Switchyard client ↔ Switchyard server for each protocol, and in the same run through the
 * peer pairs (v2ray ↔ v2ray, ss-local ↔ ss-server, trojan-gfw ↔ trojan-gfw). Both ends of
 * every pair are separate processes on the same 2 vCPUs as curl and the origin. Prints a
 * markdown table and rewrites the protocols section of bench/RESULTS.md.
 *
 * Run: `deno run -A --unstable-net bench/protocols.ts` (needs curl, v2ray, shadowsocks-libev,
 * trojan, openssl). Env: BENCH_BYTES, BENCH_RUNS, BENCH_ONLY (comma list of row names).
 */
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { createAead } from "../src/common/aead.ts";
import { makeCert } from "../tests/e2e/_proxy_peers.ts";
import { curlSpeed, freePort, median, stop, waitPort } from "./_util.ts";

const SIZE = Number(Deno.env.get("BENCH_BYTES") ?? 1024 ** 3);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const ONLY = Deno.env.get("BENCH_ONLY")?.split(",");
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";

function spawn(cmd: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
}

/** One-core AEAD throughput per backend, 16 KiB records: the measurement behind `src/common/aead.ts`. */
function aeadTable(): string[] {
  const out: string[] = [];
  const src = new Uint8Array(16 * 1024);
  const dst = new Uint8Array(src.length + 16);
  const nonce = new Uint8Array(12);
  const rate = (seal: () => void) => {
    const n = 4000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) seal();
    return (n * src.length / 1e6 / ((performance.now() - t0) / 1000)).toFixed(0);
  };
  for (const name of ["aes-128-gcm", "chacha20-poly1305"] as const) {
    const key = new Uint8Array(name === "aes-128-gcm" ? 16 : 32);
    const ffi = createAead(name, key);
    const node = createAead(name, key, { backend: "node:crypto" });
    const noble = name === "aes-128-gcm"
      ? (() => gcm(key, nonce).encrypt(src))
      : (() => chacha20poly1305(key, nonce).encrypt(src));
    out.push(
      `| ${name} | ${rate(() => ffi.sealTo(dst, nonce, src))} | ${
        rate(() => node.sealTo(dst, nonce, src))
      } | ${rate(noble)} |`,
    );
  }
  return out;
}
const aeadLines = aeadTable();
for (const l of aeadLines) console.log(l);

const dir = await Deno.makeTempDir({ prefix: "switchyard-bench-proto-" });
const { certPath, keyPath } = await makeCert(dir);

const origin = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_origin.ts", import.meta.url).pathname],
  stdout: "piped",
  stdin: "null",
}).spawn();
const reader = origin.stdout.pipeThrough(new TextDecoderStream()).getReader();
const originPort = (JSON.parse((await reader.read()).value!) as { http: number }).http;
const url = `http://127.0.0.1:${originPort}/bytes?n=${SIZE}`;

async function writeJson(name: string, v: unknown): Promise<string> {
  const p = `${dir}/${name}`;
  await Deno.writeTextFile(p, JSON.stringify(v));
  return p;
}

/** Starts a pair and returns the client's SOCKS port plus the processes. */
type Pair = () => Promise<{ socks: number; procs: Deno.ChildProcess[] }>;

function syPair(inbound: Record<string, unknown>, outbound: Record<string, unknown>): Pair {
  return async () => {
    const sp = freePort(), cp = freePort();
    const s = await writeJson(`sy-s-${sp}.json`, {
      log: { level: "error" },
      inbounds: [{ tag: "in", listen: "127.0.0.1", listen_port: sp, ...inbound }],
      outbounds: [{ type: "direct", tag: "direct" }],
    });
    const c = await writeJson(`sy-c-${cp}.json`, {
      log: { level: "error" },
      inbounds: [{ type: "mixed", tag: "mixed", listen: "127.0.0.1", listen_port: cp }],
      outbounds: [{ tag: "proxy", server: "127.0.0.1", server_port: sp, ...outbound }],
    });
    const procs = [
      spawn(Deno.execPath(), ["run", "-A", "--unstable-net", MAIN, "run", "-c", s]),
      spawn(Deno.execPath(), ["run", "-A", "--unstable-net", MAIN, "run", "-c", c]),
    ];
    await waitPort(sp);
    await waitPort(cp);
    return { socks: cp, procs };
  };
}

function v2Pair(inbound: Record<string, unknown>, outbound: (port: number) => Record<string, unknown>): Pair {
  return async () => {
    const sp = freePort(), cp = freePort();
    const s = await writeJson(`v2-s-${sp}.json`, {
      log: { loglevel: "none" },
      inbounds: [{ listen: "127.0.0.1", port: sp, ...inbound }],
      outbounds: [{ protocol: "freedom" }],
    });
    const c = await writeJson(`v2-c-${cp}.json`, {
      log: { loglevel: "none" },
      inbounds: [{ listen: "127.0.0.1", port: cp, protocol: "socks", settings: {} }],
      outbounds: [outbound(sp)],
    });
    const procs = [spawn("v2ray", ["-config", s]), spawn("v2ray", ["-config", c])];
    await waitPort(sp);
    await waitPort(cp);
    return { socks: cp, procs };
  };
}

const ssLibev: Pair = async () => {
  const sp = freePort(), cp = freePort();
  const procs = [
    spawn("ss-server", ["-s", "127.0.0.1", "-p", String(sp), "-k", "pw", "-m", "chacha20-ietf-poly1305"]),
    spawn("ss-local", [
      "-s",
      "127.0.0.1",
      "-p",
      String(sp),
      "-l",
      String(cp),
      "-b",
      "127.0.0.1",
      "-k",
      "pw",
      "-m",
      "chacha20-ietf-poly1305",
    ]),
  ];
  await waitPort(sp);
  await waitPort(cp);
  return { socks: cp, procs };
};

const trojanGfw: Pair = async () => {
  const sp = freePort(), cp = freePort();
  const s = await writeJson(`tr-s-${sp}.json`, {
    run_type: "server",
    local_addr: "127.0.0.1",
    local_port: sp,
    remote_addr: "127.0.0.1",
    remote_port: originPort,
    password: ["pw"],
    log_level: 5,
    ssl: { cert: certPath, key: keyPath },
  });
  const c = await writeJson(`tr-c-${cp}.json`, {
    run_type: "client",
    local_addr: "127.0.0.1",
    local_port: cp,
    remote_addr: "127.0.0.1",
    remote_port: sp,
    password: ["pw"],
    log_level: 5,
    ssl: { verify: false, verify_hostname: false, sni: "localhost" },
  });
  const procs = [spawn("trojan", ["-c", s]), spawn("trojan", ["-c", c])];
  await waitPort(sp);
  await waitPort(cp);
  return { socks: cp, procs };
};

const v2vnext = (protocol: string, user: Record<string, unknown>) => (port: number) => ({
  protocol,
  settings: { vnext: [{ address: "127.0.0.1", port, users: [user] }] },
});
const tlsIn = { enabled: true, certificate_path: certPath, key_path: keyPath };
const tlsOut = { enabled: true, server_name: "localhost", certificate_path: certPath };

const rows: [string, Pair, string, Pair][] = [
  [
    "shadowsocks aes-128-gcm",
    syPair({ type: "shadowsocks", method: "aes-128-gcm", password: "pw" }, {
      type: "shadowsocks",
      method: "aes-128-gcm",
      password: "pw",
    }),
    "v2ray↔v2ray ss aes-128-gcm",
    v2Pair(
      { protocol: "shadowsocks", settings: { method: "aes-128-gcm", password: "pw" } },
      (port) => ({
        protocol: "shadowsocks",
        settings: { servers: [{ address: "127.0.0.1", port, method: "aes-128-gcm", password: "pw" }] },
      }),
    ),
  ],
  [
    "shadowsocks chacha20-ietf-poly1305",
    syPair(
      { type: "shadowsocks", method: "chacha20-ietf-poly1305", password: "pw" },
      { type: "shadowsocks", method: "chacha20-ietf-poly1305", password: "pw" },
    ),
    "ss-local↔ss-server chacha20-ietf-poly1305",
    ssLibev,
  ],
  [
    "vmess aes-128-gcm",
    syPair({ type: "vmess", users: [{ uuid: UUID }] }, {
      type: "vmess",
      uuid: UUID,
      security: "aes-128-gcm",
    }),
    "v2ray↔v2ray vmess (auto = aes-128-gcm)",
    v2Pair(
      { protocol: "vmess", settings: { clients: [{ id: UUID, alterId: 0 }] } },
      v2vnext("vmess", { id: UUID, alterId: 0 }),
    ),
  ],
  [
    "vless",
    syPair({ type: "vless", users: [{ uuid: UUID }] }, { type: "vless", uuid: UUID }),
    "v2ray↔v2ray vless",
    v2Pair(
      { protocol: "vless", settings: { clients: [{ id: UUID }], decryption: "none" } },
      v2vnext("vless", { id: UUID, encryption: "none" }),
    ),
  ],
  [
    "trojan (TLS)",
    syPair({ type: "trojan", users: [{ password: "pw" }], tls: tlsIn }, {
      type: "trojan",
      password: "pw",
      tls: tlsOut,
    }),
    "trojan-gfw↔trojan-gfw",
    trojanGfw,
  ],
  [
    "vmess over ws",
    syPair(
      { type: "vmess", users: [{ uuid: UUID }], transport: { type: "ws", path: "/ws" } },
      { type: "vmess", uuid: UUID, security: "aes-128-gcm", transport: { type: "ws", path: "/ws" } },
    ),
    "v2ray↔v2ray vmess over ws",
    v2Pair(
      {
        protocol: "vmess",
        settings: { clients: [{ id: UUID, alterId: 0 }] },
        streamSettings: { network: "ws", wsSettings: { path: "/ws" } },
      },
      (port) => ({
        ...v2vnext("vmess", { id: UUID, alterId: 0 })(port),
        streamSettings: { network: "ws", wsSettings: { path: "/ws" } },
      }),
    ),
  ],
];

async function measure(p: Pair): Promise<number[]> {
  const { socks, procs } = await p();
  try {
    const speeds: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      speeds.push(await curlSpeed(["--socks5-hostname", `127.0.0.1:${socks}`], url, SIZE));
    }
    return speeds;
  } finally {
    for (const c of procs) await stop(c);
  }
}

const lines: string[] = [];
for (const [name, sy, peerName, peer] of rows) {
  if (ONLY && !ONLY.some((o) => name.includes(o))) continue;
  const a = await measure(sy);
  const b = await measure(peer);
  const line = `| ${name} | ${median(a).toFixed(0)} | ${
    a.map((x) => x.toFixed(0)).join(" ")
  } | ${peerName} | ${median(b).toFixed(0)} | ${b.map((x) => x.toFixed(0)).join(" ")} | ${
    (median(a) / median(b)).toFixed(2)
  }× |`;
  console.log(line);
  lines.push(line);
}
await stop(origin);
await Deno.remove(dir, { recursive: true });

const date = new Date().toISOString().slice(0, 10);
const section = `<!-- protocols:start -->
## Proxy protocols, Switchyard client ↔ Switchyard server vs. peer pairs (issue #6)

\`deno run -A --unstable-net bench/protocols.ts\`, ${date}, ${SIZE / 1024 ** 3} GiB per download with curl
(--socks5-hostname) from a Deno origin streaming zeros, ${RUNS} runs each, 2 vCPU shared by curl, both proxy
processes and the origin. AEAD through OpenSSL libcrypto via FFI (\`src/common/aead.ts\`).

| protocol | switchyard MB/s (median) | runs | peer pair | peer MB/s (median) | runs | switchyard ÷ peer |
|---|---|---|---|---|---|---|
${lines.join("\n")}

AEAD seal throughput on one core, 16 KiB records, MB/s (why the hot path uses OpenSSL through FFI):

| AEAD | OpenSSL libcrypto via FFI | node:crypto | @noble/ciphers (pure JS) |
|---|---|---|---|
${aeadLines.join("\n")}
<!-- protocols:end -->`;
const path = new URL("./RESULTS.md", import.meta.url).pathname;
let doc = "";
try {
  doc = await Deno.readTextFile(path);
} catch { /* new file */ }
doc = doc.includes("<!-- protocols:start -->")
  ? doc.replace(/<!-- protocols:start -->[\s\S]*<!-- protocols:end -->/, section)
  : `${doc.trimEnd()}\n\n${section}\n`;
if (!ONLY) await Deno.writeTextFile(path, doc);
else console.log(section);
