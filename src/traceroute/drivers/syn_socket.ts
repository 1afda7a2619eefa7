/**
 * `--tcp-method syn_socket` (spec §5.5, Windows): serial, no raw sockets. Each TTL is a real
 * non-blocking connect() with that TTL; a router's ICMP error comes back through
 * `TCP_ICMP_ERROR_INFO`, success is the destination, a poll timeout an empty hop, and any other
 * error (connection refused included) fails the run. Quirk kept: every hop has `ttl: 0`.
 *
 * @module
 */
import { synSocketProbe, type SynSocketResult, WS } from "../../../ffi/windows_socket.ts";
import { OSError } from "../errors.ts";
import { formatIP } from "../packets/addr.ts";
import type { Hop } from "../result.ts";
import { ipBytes, localEndpoint } from "./common.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";

/** One probe: the platform's (Winsock) by default, injectable for tests. */
export type SynSocketProbe = (target: Uint8Array, port: number, ttl: number, timeoutMs: number) => Promise<
  SynSocketResult
>;

const WSA_ERRNO: Record<number, number> = {
  [WS.WSAECONNREFUSED]: 111,
  [WS.WSAETIMEDOUT]: 110,
  [WS.WSAEHOSTUNREACH]: 113,
};

/** Runs one syn_socket traceroute. @throws {OSError} On any connect error but a hop's ICMP. */
export async function runSynSocket(
  spec: RunSpec,
  probe: SynSocketProbe = synSocketProbe,
): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  const source = await localEndpoint(target, spec.port);
  const hops: Hop[] = [];
  let destRtt: number | null = null;
  for (let ttl = spec.minTtl; ttl <= spec.maxTtl; ttl++) {
    const t0 = performance.now();
    const r = await probe(target, spec.port, ttl, spec.timeoutMs);
    const rtt = performance.now() - t0;
    if (r.kind === "error") {
      throw new OSError("connect", WSA_ERRNO[r.wsaError] ?? 0, `WSA error ${r.wsaError}`);
    }
    if (r.kind === "timeout") hops.push({ ttl: 0, ip_address: "", rtt: 0, reachable: false });
    else if (r.kind === "hop") hops.push({ ttl: 0, ip_address: formatIP(r.ip), rtt, reachable: false });
    else {
      hops.push({ ttl: 0, ip_address: spec.target, rtt, reachable: false });
      destRtt = rtt;
      break;
    }
    const wait = t0 + spec.delayMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  return {
    run: {
      run_id: "",
      source: { ip_address: formatIP(source.addr), port: source.port },
      destination: { ip_address: spec.target, port: spec.port },
      hops,
    },
    destRtt,
  };
}
