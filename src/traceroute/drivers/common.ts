/**
 * Helpers shared by the protocol runners.
 *
 * @module
 */
import { OSError } from "../errors.ts";
import { formatIP, parseIP } from "../packets/addr.ts";
import { type DgramSocket, localAddrFor } from "../../../ffi/dgram_socket.ts";
import type { ProbeEndpoints } from "../probe/types.ts";
import { type ProbeResponse, type SchedulerParams, toHops } from "../scheduler.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";

/** True when `e` is EPERM or EACCES (raw sockets refused). */
export function isPermissionError(e: unknown): boolean {
  return e instanceof OSError && (e.errno === 1 || e.errno === 13);
}

/** Returns 4 or 16 bytes for an IP literal. @throws {TypeError} If not an IP literal. */
export function ipBytes(ip: string): Uint8Array {
  const b = parseIP(ip);
  if (!b) throw new TypeError(`Cannot use "${ip}" as an IP address`);
  return b;
}

/** Builds probe endpoints from text/bytes. */
export function endpoints(
  local: Uint8Array,
  localPort: number,
  target: string,
  targetPort: number,
): ProbeEndpoints {
  const targetBytes = ipBytes(target);
  return {
    local: formatIP(local),
    localBytes: local,
    localPort,
    target: formatIP(targetBytes),
    targetBytes,
    targetPort,
  };
}

/** Assembles a run outcome from scheduler output. */
export function outcome(
  spec: RunSpec,
  source: { ip: string; port: number },
  destPort: number,
  probes: (ProbeResponse | null)[],
): RunOutcome {
  const { hops, dest } = toHops(spec.minTtl, probes);
  return {
    run: {
      run_id: "",
      source: { ip_address: source.ip, port: source.port },
      destination: { ip_address: spec.target, port: destPort },
      hops,
    },
    destRtt: dest ? dest.rtt : null,
  };
}

/** A reserved local endpoint for a run. `socket` holds the port until closed. */
export interface LocalEndpoint {
  addr: Uint8Array;
  port: number;
  /** Linux: the FFI socket (usable for unprivileged probing); elsewhere a node:dgram socket. */
  socket?: DgramSocket | { close(): void };
}

/**
 * Finds the local address the OS uses to reach `target`:`port` with a connected UDP "dial".
 * With `keep` the socket stays open, reserving the source port, and the caller closes it.
 */
export async function localEndpoint(target: Uint8Array, port: number, keep = false): Promise<LocalEndpoint> {
  if (Deno.build.os === "linux") return localAddrFor(target, port, keep);
  const { createSocket } = await import("node:dgram");
  const s = createSocket(target.length === 16 ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.connect(port, formatIP(target), () => resolve());
  });
  const a = s.address();
  const local = { addr: parseIP(a.address)!, port: a.port };
  if (keep) return { ...local, socket: { close: () => s.close() } };
  s.close();
  return local;
}

/** Scheduler parameters of a run; `delayMs` overrides the spec's send delay (SACK uses 10 ms). */
export function schedulerParams(spec: RunSpec, delayMs = spec.delayMs): SchedulerParams {
  return {
    minTtl: spec.minTtl,
    maxTtl: spec.maxTtl,
    timeoutMs: spec.timeoutMs,
    sendDelayMs: delayMs,
    earlyFinish: spec.earlyFinish,
    signal: spec.signal,
  };
}
