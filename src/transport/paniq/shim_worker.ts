/**
 * The shim thread (a module Worker): runs every {@linkcode ClientTunnel} and
 * {@linkcode ServerTunnel} of the process, so the envelope and the UDP syscalls of all paniq
 * traffic use a second core while Deno's QUIC (quinn, which runs on the main thread's event loop)
 * keeps the first.
 *
 * Readiness comes from the shared `ffi/poller.ts` module, not a copy: the Worker imports the same
 * file, but module state is per isolate, so this thread gets its own `getPoller()` instance (one
 * pending poll and one eventfd for this thread's sockets). That is required, not a choice: the
 * callbacks touch this thread's objects and must run here, and the main thread's poller keeps
 * serving the main thread's FFI fds. Because this thread does nothing but the shims' I/O, it
 * lets its poller wait up to 1 ms in a synchronous poll (`Poller.syncWaitMs`) rather
 * than pay a blocking-pool round trip per wake-up.
 *
 * Protocol (structured-clone messages; `id` names a tunnel, `rq` a request):
 * - in: `{op:"dial", rq, id, profile}` → `{op:"reply", rq, localPort}` or `{op:"reply", rq, error}`
 * - in: `{op:"listen", rq, id, profile, key, hostname, port, quicHost, quicPort}` → `{op:"reply", rq, port}`
 * - in: `{op:"closePeer", id, port}`, `{op:"close", id}`, `{op:"shutdown"}` (closes all, then `{op:"exit"}`)
 * - out: `{op:"counters", id, delta}` (every 250 ms and at close), `{op:"peer", id, key, port, open}`,
 *   `{op:"log", id, level, msg}`, `{op:"done", id}`
 *
 * @module
 */
import { newEnvelopeCounters } from "../../protocol/paniq/metrics.ts";
import type { EnvelopeCounters } from "../../protocol/paniq/metrics.ts";
import { type Profile, resolveClient, resolveServer } from "../../protocol/paniq/profile.ts";
import type { Logger } from "../../common/log.ts";
import { ClientTunnel, HandshakeFailedError } from "./client_tunnel.ts";
import { ServerTunnel } from "./server_tunnel.ts";
import { openShimSocket } from "./udp.ts";
import { udpBatchStats } from "../../../ffi/udp_batch.ts";
import { getPoller } from "../../../ffi/poller.ts";

// I/O only: wait for the next datagram in a synchronous poll (see the module docstring).
getPoller().syncWaitMs = 1;

interface Hosted {
  closed?: boolean;
  counters: EnvelopeCounters;
  sent: EnvelopeCounters;
  close(): void;
  server?: ServerTunnel;
}

// deno-lint-ignore no-explicit-any
const post = (m: any) => (self as unknown as Worker).postMessage(m);
const hosted = new Map<number, Hosted>();

/** `PANIQ_BENCH_DEBUG` set (bench/paniq.ts): print the UDP batch counters at shutdown. */
function debugEnabled(): boolean {
  try {
    return !!Deno.env.get("PANIQ_BENCH_DEBUG");
  } catch {
    return false;
  }
}
let timer: ReturnType<typeof setInterval> | undefined;

function sendCounters(id: number, h: Hosted): void {
  const delta: Partial<EnvelopeCounters> = {};
  let any = false;
  for (const k of Object.keys(h.counters) as (keyof EnvelopeCounters)[]) {
    const d = h.counters[k] - h.sent[k];
    if (d !== 0) {
      delta[k] = d;
      h.sent[k] = h.counters[k];
      any = true;
    }
  }
  if (any) post({ op: "counters", id, delta });
}

function add(id: number, h: Hosted): void {
  hosted.set(id, h);
  timer ??= setInterval(() => {
    for (const [i, x] of hosted) sendCounters(i, x);
  }, 250);
}

function remove(id: number): void {
  const h = hosted.get(id);
  if (!h) return;
  hosted.delete(id);
  sendCounters(id, h);
  post({ op: "done", id });
  if (hosted.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

function logger(id: number): Logger {
  const at = (level: string) => (msg: string) => post({ op: "log", id, level, msg });
  return { trace: at("trace"), debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function dial(m: { rq: number; id: number; profile: Profile }): Promise<void> {
  const counters = newEnvelopeCounters();
  const h: Hosted = { counters, sent: newEnvelopeCounters(), close: () => {} };
  add(m.id, h);
  try {
    const t = await ClientTunnel.dial(resolveClient(m.profile), counters);
    h.close = () => t.close();
    if (h.closed) t.close();
    t.done.then(() => remove(m.id));
    post({ op: "reply", rq: m.rq, localPort: t.localPort });
  } catch (e) {
    remove(m.id);
    const hs = e instanceof HandshakeFailedError;
    post({ op: "reply", rq: m.rq, error: String((e as Error).message ?? e), handshake: hs });
  }
}

function listen(m: {
  rq: number;
  id: number;
  profile: Profile;
  key: string;
  hostname: string;
  port: number;
  quicHost: string;
  quicPort: number;
}): void {
  try {
    const cfg = resolveServer(m.profile, m.key);
    const counters = newEnvelopeCounters();
    const sock = openShimSocket(m.hostname, m.port, { batch: 64 });
    const server = new ServerTunnel(
      sock,
      { hostname: m.hostname, port: m.port },
      cfg,
      counters,
      { transport: "udp", hostname: m.quicHost, port: m.quicPort },
      logger(m.id),
      (key, port, open) => post({ op: "peer", id: m.id, key, port, open }),
    );
    add(m.id, { counters, sent: newEnvelopeCounters(), close: () => server.close(), server });
    server.done.then(() => remove(m.id));
    post({ op: "reply", rq: m.rq, port: server.addr.port });
  } catch (e) {
    post({ op: "reply", rq: m.rq, error: String((e as Error).message ?? e) });
  }
}

(self as unknown as Worker).onmessage = (e: MessageEvent) => {
  const m = e.data;
  switch (m.op) {
    case "dial":
      dial(m);
      break;
    case "listen":
      listen(m);
      break;
    case "closePeer":
      hosted.get(m.id)?.server?.closePeerByQuicPort(m.port);
      break;
    case "close": {
      const h = hosted.get(m.id);
      if (h) {
        h.closed = true;
        h.close();
      }
      break;
    }
    case "shutdown":
      if (debugEnabled()) {
        console.log(
          `shim thread udp: ${JSON.stringify(udpBatchStats)} poller: ${JSON.stringify(getPoller().stats)}`,
        );
      }
      for (const h of [...hosted.values()]) {
        h.closed = true;
        h.close();
      }
      // Let the tunnels' done callbacks post their last counters, then end the thread.
      setTimeout(() => {
        post({ op: "exit" });
        (self as unknown as { close(): void }).close();
      }, 0);
      break;
  }
};
