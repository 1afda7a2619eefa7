/**
 * Unprivileged runs (no CAP_NET_RAW): used automatically when raw sockets are refused.
 * - ICMP: an ICMP datagram ("ping") socket; echo replies arrive as data, Time Exceeded via the
 *   IP_RECVERR error queue with the hop in SO_EE_OFFENDER and our echo header (seq = TTL) as data.
 *   The kernel picks the echo id, so ids cannot collide with other runs.
 * - UDP: the connected UDP socket that reserves the port; the payload carries `NSMNC` and the
 *   41821+TTL id (IPv4) or is 5+TTL long (IPv6), and comes back with each queued ICMP error.
 * The JSON is the same as the raw path's. When ping sockets are refused too (`ping_group_range`),
 * the run fails with the permission error (DENIED).
 *
 * @module
 */
import { type DgramSocket, DgramSocket as Dgram } from "../../../ffi/dgram_socket.ts";
import { C } from "../../../ffi/libc.ts";
import { timestampsReady } from "../../../ffi/recvmsg.ts";
import { ICMP } from "../packets/transport.ts";
import { formatIP } from "../packets/addr.ts";
import { UDP_BASE_ID, udpPayloadV4, udpPayloadV6 } from "../probe/udp.ts";
import { tracerouteParallel } from "../scheduler.ts";
import { OSError } from "../errors.ts";
import { ipBytes, isPermissionError, outcome, schedulerParams } from "./common.ts";
import { QueueDriver } from "./queue_driver.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";

/** ICMP echo request for a ping socket (the kernel fills id and checksum). */
function echoRequest(v6: boolean, ttl: number): Uint8Array {
  const b = new Uint8Array(9);
  b[0] = v6 ? ICMP.V6_ECHO_REQUEST : ICMP.V4_ECHO_REQUEST;
  b[6] = ttl >> 8;
  b[7] = ttl & 0xff;
  b[8] = ttl;
  return b;
}

/**
 * ICMP run over a ping socket.
 * @throws {OSError} The raw-socket error, with the ping-socket refusal as cause, when both are refused.
 */
export async function runIcmpUnprivileged(
  spec: RunSpec,
  rawError: Error,
  source: { ip: string; port: number },
): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  const v6 = target.length === 16;
  let sock: DgramSocket;
  try {
    sock = new Dgram(v6, v6 ? C.IPPROTO_ICMPV6 : C.IPPROTO_ICMP);
  } catch (e) {
    if (!isPermissionError(e)) throw e;
    const raw = rawError as OSError;
    throw new OSError(
      "socket",
      raw.errno ?? 1,
      undefined,
      { cause: e },
    );
  }
  try {
    sock.connect(target, 0);
    sock.enableRecvErr();
    const te = v6 ? ICMP.V6_TIME_EXCEEDED : ICMP.V4_TIME_EXCEEDED;
    const reply = v6 ? ICMP.V6_ECHO_REPLY : ICMP.V4_ECHO_REPLY;
    const driver = new QueueDriver((ttl) => {
      sock.setTtl(ttl);
      sock.send(echoRequest(v6, ttl));
    });
    sock.listen(
      (d) => {
        if (d.data.length < 8 || d.data[0] !== reply) return;
        const seq = (d.data[6] << 8) | d.data[7];
        driver.pushMatch({ ttl: seq, ip: spec.target, isDest: true }, d.timeNs);
      },
      (e) => {
        if (e.type !== te || !e.offender || e.data.length < 8) return;
        const seq = (e.data[6] << 8) | e.data[7];
        driver.pushMatch({ ttl: seq, ip: formatIP(e.offender), isDest: false }, e.timeNs);
      },
    );
    await timestampsReady();
    const probes = await tracerouteParallel(driver, schedulerParams(spec));
    // like the raw path, report the throw-away UDP dial's address and port
    return outcome(spec, source, 0, probes);
  } finally {
    sock.close();
  }
}

/** UDP run over the connected socket `sock` (owned by the caller). */
export async function runUdpUnprivileged(
  spec: RunSpec,
  sock: DgramSocket,
  source: { ip: string; port: number },
): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  const v6 = target.length === 16;
  sock.enableRecvErr();
  if (!v6) sock.setOption(C.IPPROTO_IP, C.IP_MTU_DISCOVER, C.IP_PMTUDISC_DO);
  const te = v6 ? ICMP.V6_TIME_EXCEEDED : ICMP.V4_TIME_EXCEEDED;
  const du = v6 ? ICMP.V6_DEST_UNREACH : ICMP.V4_DEST_UNREACH;
  const driver = new QueueDriver((ttl) => {
    sock.setTtl(ttl);
    sock.send(v6 ? udpPayloadV6(ttl) : udpPayloadV4((UDP_BASE_ID + ttl) & 0xffff));
  });
  sock.listen(() => {}, (e) => {
    if (!e.offender || !((e.type === te && e.code === 0) || e.type === du)) return;
    const ttl = v6 ? e.data.length - 5 : (((e.data[6] << 8) | e.data[7]) - UDP_BASE_ID);
    if (!v6 && (e.data.length < 8 || e.data[0] !== 0x4e)) return;
    const ip = formatIP(e.offender);
    driver.pushMatch({ ttl, ip, isDest: ip === spec.target }, e.timeNs);
  });
  await timestampsReady();
  const probes = await tracerouteParallel(driver, schedulerParams(spec));
  return outcome(spec, source, spec.port, probes);
}
