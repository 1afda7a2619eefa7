/**
 * paniq shim-thread cost without QUIC: a GSO sender on this thread plays quinn's client (10 ×
 * 1200-byte datagrams per send, like quinn's transmits), a GRO socket plays quinn's server, and
 * the shim thread runs the real client and server tunnels (example profile) in between. Prints the
 * shim thread's CPU time per datagram (µs, user and system), a figure the load of a shared machine
 * disturbs far less than the throughput ratio of `bench/paniq.ts`. At most 400 datagrams are in
 * flight, so the loopback sockets do not overflow.
 *
 * ```sh
 * deno run -A --unstable-net bench/paniq_shim.ts [datagrams]
 * ```
 * @module
 */
import { parseProfile, resolveClient, resolveServer } from "../src/protocol/paniq/profile.ts";
import { newEnvelopeCounters } from "../src/protocol/paniq/metrics.ts";
import { RemoteClientTunnel, RemoteServerTunnel, ShimHost } from "../src/transport/paniq/shim_host.ts";
import { UdpBatchSocket } from "../ffi/udp_batch.ts";
import { getLogger } from "../src/common/log.ts";

const N = Number(Deno.args[0] ?? 240_000);
const WINDOW = 400;
const profileJson = JSON.parse(
  await Deno.readTextFile(new URL("../examples/paniq-profile.json", import.meta.url)),
);
profileJson.preamble_delay_ms = 0;
profileJson.preamble_jitter_ms = 0;
profileJson.obfuscation.rate_limit_pps = 0;

/** `sockaddr_in` of 127.0.0.1:`port`. */
function loopback(port: number): Uint8Array {
  return new Uint8Array([2, 0, port >> 8, port & 0xff, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
}

/** CPU ticks `[user, system]` of the shim thread (named `worker-N`). */
function shimTicks(): [number, number] {
  for (const t of Deno.readDirSync("/proc/self/task")) {
    const st = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
    if (!st.includes("(worker-")) continue;
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return [Number(f[11]), Number(f[12])];
  }
  throw new Error("no shim thread");
}

let got = 0;
let progress: () => void = () => {};
const sink = UdpBatchSocket.bind("127.0.0.1", 0, { offload: true, batch: 64 });
sink.start(() => got++, () => progress());
const quic = UdpBatchSocket.bind("127.0.0.1", 0, { offload: true, txBatch: 10 });

const p = parseProfile(profileJson);
const host = ShimHost.acquire();
const server = await RemoteServerTunnel.listen(
  host,
  resolveServer(p),
  newEnvelopeCounters(),
  "127.0.0.1",
  0,
  { transport: "udp", hostname: "127.0.0.1", port: sink.port },
  getLogger("bench"),
);
p.proxy_addr = `127.0.0.1:${server.addr.port}`;
const client = await RemoteClientTunnel.dial(host, resolveClient(p), newEnvelopeCounters());
const to = loopback(client.localPort);
const packet = new Uint8Array(1200).fill(0x5a);
/** Resolves after the sink's next batch, or after 200 ms. */
function advanced(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 200);
    progress = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

// The first datagram teaches the client tunnel where QUIC is.
quic.send(packet, to);
quic.flush();
while (got === 0) await advanced();

const [u0, s0] = shimTicks();
const t0 = performance.now();
let sent = 0;
got = 0;
while (got < N) {
  while (sent < N && sent - got < WINDOW) {
    for (let i = 0; i < 10; i++) quic.send(packet, to);
    quic.flush();
    sent += 10;
  }
  const before = got;
  await advanced();
  if (got === before) got = sent; // lost in a full buffer: do not wait for them
}
const ms = performance.now() - t0;
const [u1, s1] = shimTicks();
const us = (ticks: number) => (ticks * 10_000 / N).toFixed(2);
console.log(
  `shim thread: ${N} datagrams in ${ms.toFixed(0)} ms, ${us(u1 - u0 + s1 - s0)} µs CPU per datagram ` +
    `(user ${us(u1 - u0)}, system ${us(s1 - s0)}); load average ${
      Deno.readTextFileSync("/proc/loadavg").split(" ")[0]
    }`,
);
client.close();
server.close();
host.release();
quic.close();
sink.close();
