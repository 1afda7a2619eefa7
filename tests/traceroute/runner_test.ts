import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { e2eDelayMs, runTraceroute } from "../../src/traceroute/runner.ts";
import { defaultParams, type TracerouteParams } from "../../src/traceroute/params.ts";
import type { RunOutcome } from "../../src/traceroute/drivers/spec.ts";
import { JoinedError } from "../../src/traceroute/errors.ts";

function outcome(hops: string[], dest = true): RunOutcome {
  return {
    run: {
      run_id: "",
      source: { ip_address: "10.0.0.2", port: 1 },
      destination: { ip_address: "192.0.2.9", port: 33434 },
      hops: hops.map((ip, i) => ({ ttl: i + 1, ip_address: ip, rtt: ip ? 1 : 0, reachable: false })),
    },
    destRtt: dest ? 1.5 : null,
  };
}

function params(over: Partial<TracerouteParams> = {}): TracerouteParams {
  return { ...defaultParams("192.0.2.9"), e2eQueries: 0, ...over };
}

Deno.test("e2eDelayMs(): min(max_ttl × timeout / n, 1 s)", () => {
  assertEquals(e2eDelayMs(params({ maxTtl: 30, timeoutMs: 3000, e2eQueries: 50 })), 1000);
  assertEquals(e2eDelayMs(params({ maxTtl: 8, timeoutMs: 300, e2eQueries: 4 })), 600);
  assertEquals(e2eDelayMs(params({ e2eQueries: 0 })), 0);
});

Deno.test("runTraceroute(): partial failures keep the successful runs; all failing joins unique errors", async () => {
  let n = 0;
  const r = await runTraceroute(params(), {
    runOnce: () =>
      ++n === 2 ? Promise.reject(new Error("boom")) : Promise.resolve(outcome(["10.0.0.1", "192.0.2.9"])),
  });
  assertEquals(r.traceroute.runs!.length, 2);
  const e = await assertRejects(
    () =>
      runTraceroute(params(), {
        runOnce: (_p) => Promise.reject(new Error(n++ % 2 ? "a" : "b")),
      }),
    JoinedError,
  );
  assertEquals(e.message.split("\n").sort(), ["a", "b"]);
});

Deno.test("runTraceroute(): e2e probes run at max TTL, SACK becomes SYN, failures count as 0, paced", async () => {
  const seen: TracerouteParams[] = [];
  let k = 0;
  const t0 = performance.now();
  const r = await runTraceroute(
    params({
      protocol: "tcp",
      tcpMethod: "prefer_sack",
      tracerouteQueries: 0,
      e2eQueries: 3,
      maxTtl: 2,
      timeoutMs: 30,
    }),
    {
      runOnce: (p) => {
        seen.push(p);
        return ++k === 2
          ? Promise.reject(new Error("lost"))
          : Promise.resolve(outcome(["", "192.0.2.9"], k !== 3));
      },
    },
  );
  const ms = performance.now() - t0;
  assert(ms >= 2 * 20 - 5, `paced: ${ms}`);
  assertEquals(seen.map((p) => [p.minTtl, p.maxTtl, p.tcpMethod]), [[2, 2, "syn"], [2, 2, "syn"], [
    2,
    2,
    "syn",
  ]]);
  assertEquals([...r.e2e_probe.rtts!].sort(), [0, 0, 1.5]);
  assertEquals(r.traceroute.runs, null);
  assertEquals(r.e2e_probe.packets_received, 1);
});

Deno.test("runTraceroute(): public IP, reverse DNS then stats then private-hop removal", async () => {
  const r = await runTraceroute(
    params({
      collectSourcePublicIP: true,
      reverseDns: true,
      skipPrivateHops: true,
      tracerouteQueries: 1,
      port: 0,
    }),
    {
      runOnce: () => Promise.resolve(outcome(["10.0.0.1", "", "192.0.2.9"])),
      publicIp: () => Promise.resolve("203.0.113.7"),
      ptr: (ip) => ip === "10.0.0.1" ? Promise.resolve(["gw."]) : Promise.reject(new Error("nx")),
    },
  );
  assertEquals(r.source.public_ip, "203.0.113.7");
  assertEquals(r.destination, { hostname: "192.0.2.9", port: 33434 });
  assertEquals(r.traceroute.runs![0].hops[0], { ttl: 1, ip_address: "", rtt: 0, reachable: false });
  assertEquals(r.traceroute.hop_count, { avg: 3, min: 3, max: 3 });
  const failing = await runTraceroute(params({ collectSourcePublicIP: true, tracerouteQueries: 0 }), {
    publicIp: () => Promise.reject(new Error("offline")),
  });
  assertEquals(failing.source.public_ip, "");
});
