/**
 * UDP (Paris) traceroute run (parallel). The source port is reserved by a connected UDP socket
 * held for the run. Raw sockets + capture when permitted, else the connected socket itself with
 * IP_RECVERR (unprivileged), giving the same JSON.
 *
 * @module
 */
import type { DgramSocket } from "../../../ffi/dgram_socket.ts";
import { UdpProbe } from "../probe/udp.ts";
import { icmpFilter } from "../packets/cbpf.ts";
import { tracerouteParallel } from "../scheduler.ts";
import { wrap } from "../errors.ts";
import { formatIP } from "../packets/addr.ts";
import { endpoints, ipBytes, isPermissionError, localEndpoint, outcome, schedulerParams } from "./common.ts";
import { openPacketIO, type PacketIO, timestampsReady } from "./platform.ts";
import { QueueDriver } from "./queue_driver.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";
import { runUdpUnprivileged } from "./unprivileged.ts";

/** Runs one UDP traceroute. @throws {Error} Prefixed `could not generate udp traceroute results:`. */
export async function runUdp(spec: RunSpec): Promise<RunOutcome> {
  try {
    return await runUdpInner(spec);
  } catch (e) {
    throw wrap("could not generate udp traceroute results", e);
  }
}

async function runUdpInner(spec: RunSpec): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  const local = await localEndpoint(target, spec.port, true);
  const reserve = local.socket!;
  // the Windows raw-socket path must close reserved ports (it receives on one raw socket)
  if (Deno.build.os === "windows" && !spec.useDriver) reserve.close();
  try {
    const codec = new UdpProbe(endpoints(local.addr, local.port, spec.target, spec.port));
    let io: PacketIO | null = null;
    const driver = new QueueDriver((ttl) => io!.send(codec.buildProbe(ttl), target));
    try {
      io = openPacketIO(target.length === 16, icmpFilter(), (p, t) => {
        const m = codec.match(p);
        if (m) driver.pushMatch(m, t);
      }, { local: local.addr, useDriver: spec.useDriver, driverFilter: { type: "udp" } });
    } catch (e) {
      if (!isPermissionError(e) || Deno.build.os !== "linux") throw e;
      spec.log(`raw sockets refused (${(e as Error).message}), using a UDP socket with IP_RECVERR`);
      return await runUdpUnprivileged(spec, reserve as DgramSocket, {
        ip: formatIP(local.addr),
        port: local.port,
      });
    }
    try {
      await timestampsReady();
      const probes = await tracerouteParallel(driver, schedulerParams(spec));
      return outcome(spec, { ip: formatIP(local.addr), port: local.port }, spec.port, probes);
    } finally {
      io.close();
    }
  } finally {
    reserve.close();
  }
}
