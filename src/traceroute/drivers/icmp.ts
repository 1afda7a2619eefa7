/**
 * ICMP traceroute run (parallel). Raw sockets + capture when permitted, else the unprivileged
 * ICMP datagram ("ping") socket with IP_RECVERR, giving the same JSON.
 *
 * @module
 */
import { IcmpProbe, nextEchoId } from "../probe/icmp.ts";
import { icmpFilter } from "../packets/cbpf.ts";
import { tracerouteParallel } from "../scheduler.ts";
import { wrap } from "../errors.ts";
import { formatIP } from "../packets/addr.ts";
import { endpoints, ipBytes, isPermissionError, localEndpoint, outcome, schedulerParams } from "./common.ts";
import { openPacketIO, type PacketIO, timestampsReady } from "./platform.ts";
import { QueueDriver } from "./queue_driver.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";
import { runIcmpUnprivileged } from "./unprivileged.ts";

/** Runs one ICMP traceroute. @throws {Error} Prefixed `could not generate icmp traceroute results:`. */
export async function runIcmp(spec: RunSpec): Promise<RunOutcome> {
  try {
    return await runIcmpInner(spec);
  } catch (e) {
    throw wrap("could not generate icmp traceroute results", e);
  }
}

async function runIcmpInner(spec: RunSpec): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  // the reference reports the port of a throw-away UDP dial to target:80
  const local = await localEndpoint(target, 80);
  const codec = new IcmpProbe(endpoints(local.addr, 0, spec.target, 0), nextEchoId());
  let io: PacketIO | null = null;
  const driver = new QueueDriver((ttl) => io!.send(codec.buildProbe(ttl), target));
  try {
    io = openPacketIO(target.length === 16, icmpFilter(), (p, t) => {
      const m = codec.match(p);
      if (m) driver.pushMatch(m, t);
    }, { local: local.addr, useDriver: spec.useDriver, driverFilter: { type: "icmp" } });
  } catch (e) {
    if (!isPermissionError(e) || Deno.build.os !== "linux") throw e;
    spec.log(`raw sockets refused (${(e as Error).message}), using an ICMP datagram socket`);
    return await runIcmpUnprivileged(spec, e as Error, { ip: formatIP(local.addr), port: local.port });
  }
  try {
    await timestampsReady();
    const probes = await tracerouteParallel(driver, schedulerParams(spec));
    return outcome(spec, { ip: formatIP(local.addr), port: local.port }, 0, probes);
  } finally {
    io.close();
  }
}
