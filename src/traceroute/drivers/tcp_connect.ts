/**
 * Connect-based TCP traceroute (serial, no raw sockets): for each TTL a fresh non-blocking TCP
 * socket with that TTL starts a real connect(). A router's Time Exceeded ends the SYN_SENT socket
 * and, with IP_RECVERR, is queued with the router as SO_EE_OFFENDER; the target answers with a
 * SYN-ACK (connected) or RST (ECONNREFUSED); silence until the timeout is an empty hop.
 *
 * Two uses:
 * - `unprivileged`: the automatic fallback of TCP SYN when raw sockets are refused; an RST counts
 *   as the destination, as in SYN mode, and hops carry their TTL.
 * - `syn_socket` semantics (the reference's Windows method, §5.5): connection refused fails the
 *   run and hops keep `ttl: 0`. Only reachable on Windows, where this build has no socket layer,
 *   so the reference's unix error is returned there and here.
 *
 * @module
 */
import { DgramSocket } from "../../../ffi/dgram_socket.ts";
import { C, realtimeNs } from "../../../ffi/libc.ts";
import { timestampsReady } from "../../../ffi/recvmsg.ts";
import { formatIP } from "../packets/addr.ts";
import { ICMP } from "../packets/transport.ts";
import { tracerouteSerial } from "../scheduler.ts";
import { OSError } from "../errors.ts";
import { ipBytes, type LocalEndpoint, outcome, schedulerParams } from "./common.ts";
import { QueueDriver } from "./queue_driver.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";

const EINPROGRESS = 115;
const ECONNREFUSED = 111;

/** Runs a connect-based TCP traceroute; `source` is the run's UDP-dial endpoint. */
export async function runTcpConnect(spec: RunSpec, source: LocalEndpoint): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  const v6 = target.length === 16;
  const te = v6 ? ICMP.V6_TIME_EXCEEDED : ICMP.V4_TIME_EXCEEDED;
  let current: DgramSocket | null = null;
  const driver: QueueDriver = new QueueDriver((ttl) => {
    current?.close();
    const s = new DgramSocket(v6, C.IPPROTO_TCP, C.SOCK_STREAM);
    current = s;
    s.setTtl(ttl);
    s.enableRecvErr();
    let answered = false;
    s.listen(() => {}, (e) => {
      // Time Exceeded from a router, or an unreachable from anyone on the path
      if (answered || !e.offender) return;
      answered = true;
      const ip = formatIP(e.offender);
      driver.pushMatch({ ttl, ip, isDest: e.type !== te && ip === spec.target }, e.timeNs);
    }, () => {
      if (answered) return;
      const err = s.socketError();
      if (err === 0 || err === ECONNREFUSED) {
        answered = true;
        driver.pushMatch({ ttl, ip: spec.target, isDest: true }, realtimeNs());
      }
    });
    const r = s.startConnect(target, spec.port);
    if (r !== 0 && r !== EINPROGRESS) {
      if (r === ECONNREFUSED) {
        answered = true;
        driver.pushMatch({ ttl, ip: spec.target, isDest: true }, realtimeNs());
      } else if (r !== 113 && r !== 101) {
        throw new OSError("connect", r);
      }
    }
  });
  try {
    await timestampsReady();
    const probes = await tracerouteSerial(driver, schedulerParams(spec));
    return outcome(spec, { ip: formatIP(source.addr), port: source.port }, spec.port, probes);
  } finally {
    (current as DgramSocket | null)?.close();
  }
}
