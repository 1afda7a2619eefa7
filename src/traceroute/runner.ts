/**
 * Orchestration of one invocation (spec traceroute.md §6.4): `traceroute-queries` runs and the
 * paced e2e probes start together, the public IP is fetched alongside, the request fails only if
 * every run failed, then reverse DNS, normalisation and private-hop removal.
 *
 * @module
 */
import { emptyResults, normalize, removePrivateHops, type Results } from "./result.ts";
import { InvalidTargetError, JoinedError } from "./errors.ts";
import { DEFAULTS, type TracerouteParams } from "./params.ts";
import { parseTarget, type Resolver, systemResolver } from "./target.ts";
import { enrichWithReverseDns, getPublicIP, type PtrLookup } from "./enrich.ts";
import type { RunOutcome, RunSpec } from "./drivers/spec.ts";
import { runIcmp } from "./drivers/icmp.ts";
import { runUdp } from "./drivers/udp.ts";
import { runTcp } from "./drivers/tcp.ts";

/** Injection points (tests) and the log sink. */
export interface RunnerDeps {
  resolve?: Resolver;
  ptr?: PtrLookup;
  publicIp?: () => Promise<string>;
  log?: (level: "trace" | "debug" | "info" | "warn", msg: string) => void;
  /**
   * Cancels ICMP runs (the reference's ICMP honours the request context; UDP, TCP and SACK use a
   * background context and run to completion).
   */
  signal?: AbortSignal;
  /** Replaces the per-run driver (tests). */
  runOnce?: (p: TracerouteParams, destPort: number) => Promise<RunOutcome>;
}

function spec(p: TracerouteParams, target: string, port: number, deps: RunnerDeps): RunSpec {
  return {
    target,
    port,
    minTtl: p.minTtl,
    maxTtl: p.maxTtl,
    timeoutMs: p.timeoutMs,
    delayMs: p.delayMs,
    earlyFinish: p.earlyFinish ?? true,
    useDriver: p.useWindowsDriver,
    log: (m) => deps.log?.("trace", m),
  };
}

/** Runs one traceroute for the protocol of `p`. */
export async function runTracerouteOnce(
  p: TracerouteParams,
  destPort: number,
  deps: RunnerDeps = {},
): Promise<RunOutcome> {
  const resolve = deps.resolve ?? systemResolver;
  switch (p.protocol) {
    case "udp": {
      const t = await parseTarget(p.hostname, destPort, p.wantV6, resolve);
      return await runUdp(spec(p, t.ip, t.port, deps));
    }
    case "tcp": {
      const t = await parseTarget(p.hostname, destPort, p.wantV6, resolve);
      return await runTcp(spec(p, t.ip, t.port, deps), p.tcpMethod);
    }
    case "icmp": {
      const t = await parseTarget(p.hostname, 80, p.wantV6, resolve);
      return await runIcmp({ ...spec(p, t.ip, 0, deps), signal: deps.signal });
    }
    default:
      throw new InvalidTargetError(`unknown protocol: ${JSON.stringify(p.protocol)}`);
  }
}

/** One e2e probe: a single-TTL run at max TTL (SACK replaced by SYN); 0 when not reached. */
async function e2eProbe(p: TracerouteParams, destPort: number, deps: RunnerDeps): Promise<number> {
  const q: TracerouteParams = { ...p, minTtl: p.maxTtl };
  if (q.protocol === "tcp" && (q.tcpMethod === "sack" || q.tcpMethod === "prefer_sack")) q.tcpMethod = "syn";
  const once = deps.runOnce ?? ((x, port) => runTracerouteOnce(x, port, deps));
  const out = await once(q, destPort);
  return out.destRtt ?? 0;
}

/** Pacing between e2e probe launches: min(max_ttl × timeout / n, 1 s). */
export function e2eDelayMs(p: TracerouteParams): number {
  if (p.e2eQueries <= 0) return 0;
  return Math.min((p.maxTtl * p.timeoutMs) / p.e2eQueries, 1000);
}

/**
 * Runs a whole invocation and returns the normalised results.
 * @throws {Error} The joined, de-duplicated run errors when every run failed.
 */
export async function runTraceroute(p: TracerouteParams, deps: RunnerDeps = {}): Promise<Results> {
  const log = deps.log ?? (() => {});
  log("info", `Running traceroute with params: ${JSON.stringify(p)}`);
  const destPort = p.port === 0 ? DEFAULTS.port : p.port;
  const results = emptyResults();
  const errors: Error[] = [];
  const tasks: Promise<void>[] = [];
  const once = deps.runOnce ?? ((x: TracerouteParams, port: number) => runTracerouteOnce(x, port, deps));

  for (let i = 0; i < p.tracerouteQueries; i++) {
    tasks.push(
      once(p, destPort).then(
        (out) => void (results.traceroute.runs ??= []).push(out.run),
        (e) => void errors.push(e instanceof Error ? e : new Error(String(e))),
      ),
    );
  }
  if (p.collectSourcePublicIP) {
    tasks.push(
      (deps.publicIp ?? (() => getPublicIP()))().then(
        (ip) => void (results.source.public_ip = ip),
        (e) => log("debug", `Error getting IP: ${(e as Error).message}`),
      ),
    );
  }
  if (p.e2eQueries > 0) {
    const delay = e2eDelayMs(p);
    for (let i = 0; i < p.e2eQueries; i++) {
      log("trace", `send e2e probe #${i + 1}`);
      tasks.push(
        e2eProbe(p, destPort, deps).then(
          (rtt) => void (results.e2e_probe.rtts ??= []).push(rtt),
          (e) => {
            log("debug", `E2E probe error (recorded as 0 RTT): ${(e as Error).message}`);
            (results.e2e_probe.rtts ??= []).push(0);
          },
        ),
      );
      if (i < p.e2eQueries - 1) await new Promise((r) => setTimeout(r, delay));
    }
  }
  await Promise.all(tasks);

  if (p.tracerouteQueries > 0 && !results.traceroute.runs?.length && errors.length > 0) {
    throw errors.length === 1 ? errors[0] : new JoinedError(errors);
  }
  if (errors.length > 0) {
    log(
      "warn",
      `Some traceroute runs failed (${errors.length}/${p.tracerouteQueries}): ${
        errors.map((e) => e.message).join("\n")
      }`,
    );
  }
  results.protocol = p.protocol;
  results.destination = { hostname: p.hostname, port: destPort };
  if (p.reverseDns) await enrichWithReverseDns(results, deps.ptr);
  normalize(results);
  if (p.skipPrivateHops) removePrivateHops(results);
  return results;
}
