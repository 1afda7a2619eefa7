import { assert, assertEquals } from "./_assert.ts";
import { createApp, goDuration, paramsFromQuery } from "../../src/traceroute/server.ts";
import type { TracerouteParams } from "../../src/traceroute/params.ts";
import type { RunOutcome } from "../../src/traceroute/drivers/spec.ts";
import { OSError, SackNotSupportedError, wrap } from "../../src/traceroute/errors.ts";
import { runTracerouteOnce } from "../../src/traceroute/runner.ts";

/** A fake run: two hops, destination at TTL 2. */
function fakeRun(p: TracerouteParams, port: number): Promise<RunOutcome> {
  return Promise.resolve({
    run: {
      run_id: "",
      source: { ip_address: "192.0.2.1", port: 40000 },
      destination: { ip_address: "198.51.100.2", port: p.protocol === "icmp" ? 0 : port },
      hops: [
        { ttl: 1, ip_address: "192.0.2.2", rtt: 0.1, reachable: false },
        { ttl: 2, ip_address: "198.51.100.2", rtt: 0.2, reachable: false },
      ],
    },
    destRtt: 0.2,
  });
}

const app = createApp({
  runOnce: fakeRun,
  resolve: (h) => h === "lab.test" ? Promise.resolve(["198.51.100.2"]) : Promise.resolve([]),
});

async function get(path: string, method = "GET") {
  const res = await app.fetch(new Request(`http://x${path}`, { method }));
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

Deno.test("GET /traceroute returns compact JSON with a newline and the params applied", async () => {
  const r = await get(
    "/traceroute?target=198.51.100.2&protocol=tcp&port=443&traceroute-queries=2&e2e-queries=3&timeout=1",
  );
  assertEquals(r.status, 200);
  assertEquals(r.type, "application/json");
  assert(r.body.endsWith("}\n") && !r.body.includes("\n  "));
  const d = JSON.parse(r.body);
  assertEquals(d.protocol, "tcp");
  assertEquals(d.destination, { hostname: "198.51.100.2", port: 443 });
  assertEquals(d.traceroute.runs.length, 2);
  assertEquals(d.e2e_probe.rtts, [0.2, 0.2, 0.2]);
  assertEquals(d.traceroute.hop_count, { avg: 2, min: 2, max: 2 });
});

Deno.test("paramsFromQuery(): first occurrence wins, silent fallbacks, Go ParseBool, uint8 max-ttl", () => {
  const p = paramsFromQuery(
    new URL(
      "http://x/?target=a&port=x&port=9&max-ttl=257&ipv6=T&reverse-dns=yes&tcp-method=&tcp-method=sack&protocol=icmp&protocol=udp&timeout=",
    ),
  ) as TracerouteParams;
  assertEquals(p.port, 33434, "unparseable falls back, not the second value");
  assertEquals(p.maxTtl, 1);
  assertEquals(p.wantV6, true);
  assertEquals(p.reverseDns, false);
  assertEquals(p.tcpMethod, "", "empty string param is used as is");
  assertEquals(p.protocol, "icmp");
  assertEquals(p.timeoutMs, 3000);
  assertEquals(paramsFromQuery(new URL("http://x/?target=")), {
    error: "missing required parameter: target",
  });
});

Deno.test("GET /traceroute: traceroute-queries=0 gives runs null and no error", async () => {
  const d = JSON.parse(
    (await get("/traceroute?target=198.51.100.2&traceroute-queries=0&e2e-queries=0")).body,
  );
  assertEquals(d.traceroute.runs, null);
  assertEquals(d.e2e_probe.rtts, null);
});

Deno.test("/traceroute error codes: 400 INVALID_REQUEST, 500 DNS/UNKNOWN/CONNREFUSED/DENIED", async () => {
  const real = createApp({
    resolve: (h) => h === "lab.test" ? Promise.resolve(["198.51.100.2"]) : Promise.resolve([]),
  });
  const cases: [string, number, string, string][] = [
    ["/traceroute", 400, "INVALID_REQUEST", "missing required parameter: target"],
    [
      "/traceroute?target=192.0.2.1&protocol=sctp&e2e-queries=0",
      400,
      "INVALID_REQUEST",
      'unknown protocol: "sctp"',
    ],
    ["/traceroute?target=192.0.2.1&protocol=&e2e-queries=0", 400, "INVALID_REQUEST", 'unknown protocol: ""'],
    ["/traceroute?target=192.0.2.1&port=70000&e2e-queries=0", 400, "INVALID_REQUEST", "invalid port: 70000"],
    ["/traceroute?target=192.0.2.1:0&e2e-queries=0", 400, "INVALID_REQUEST", "invalid port: 0"],
    ["/traceroute?target=a]:80&e2e-queries=0", 400, "INVALID_REQUEST", "unexpected '[' or ']' in address"],
    ["/traceroute?target=nothing.test&e2e-queries=0", 500, "DNS", 'failed to resolve host "nothing.test"'],
  ];
  for (const [path, status, code, msg] of cases) {
    const res = await real.fetch(new Request(`http://x${path}`));
    assertEquals(res.status, status, path);
    assertEquals(res.headers.get("content-type"), "application/json");
    const body = await res.text();
    assert(body.endsWith("}\n"));
    const j = JSON.parse(body);
    assertEquals(Object.keys(j), ["code", "message"]);
    assertEquals(j.code, code, path);
    assert(j.message.includes(msg), `${path}: ${j.message}`);
  }
  // errors from the runs: classified, de-duplicated when identical
  const failing = (err: Error) => createApp({ runOnce: () => Promise.reject(err) });
  const cls: [Error, string][] = [
    [new Error("unexpected TCPMethod: fast"), "UNKNOWN"],
    [
      wrap("sack traceroute failed", new SackNotSupportedError("x", { cause: new OSError("connect", 111) })),
      "CONNREFUSED",
    ],
    [wrap("could not generate icmp traceroute results", new OSError("socket", 1)), "DENIED"],
    [new OSError("sendto", 113), "HOSTUNREACH"],
    [new OSError("sendto", 101), "NETUNREACH"],
    [new OSError("connect", 110), "TIMEOUT"],
  ];
  for (const [err, code] of cls) {
    const res = await failing(err).fetch(new Request("http://x/traceroute?target=192.0.2.1&e2e-queries=0"));
    assertEquals(res.status, 500);
    const j = JSON.parse(await res.text());
    assertEquals(j.code, code, err.message);
    assertEquals(j.message, err.message, "three identical run errors appear once");
  }
});

Deno.test("runTracerouteOnce(): unknown tcp-method and unix syn_socket fail with the reference texts", async () => {
  const p = paramsFromQuery(
    new URL("http://x/?target=127.0.0.1&protocol=tcp&tcp-method=fast"),
  ) as TracerouteParams;
  let msg = "";
  await runTracerouteOnce(p, 33434).catch((e) => msg = e.message);
  assertEquals(msg, "unexpected TCPMethod: fast");
  // syn_socket is the reference's Windows-only method; on unix it answers with the reference's text
  p.tcpMethod = "syn_socket";
  await runTracerouteOnce(p, 33434).catch((e) => msg = e.message);
  assertEquals(msg, "not implemented or supported on unix");
});

Deno.test("non-GET /traceroute is 405 text; HEAD /health is 200 with no body; unknown path 404", async () => {
  for (const m of ["POST", "HEAD", "PUT"]) {
    const r = await get("/traceroute?target=x", m);
    assertEquals(r.status, 405);
    if (m !== "HEAD") assertEquals(r.body, "Method not allowed\n");
  }
  const h = await get("/health");
  assertEquals(h.status, 200);
  const j = JSON.parse(h.body);
  assertEquals(Object.keys(j), ["status", "timestamp", "uptime"]);
  assertEquals(j.status, "healthy");
  assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(j.timestamp), j.timestamp);
  assert(/^[\d.]+(ns|µs|ms|s)$|m/.test(j.uptime), j.uptime);
  const head = await get("/health", "HEAD");
  assertEquals([head.status, head.body, head.type], [200, "", "application/json"]);
  assertEquals((await get("/health", "DELETE")).status, 405);
  const nf = await get("/nope");
  assertEquals([nf.status, nf.body], [404, "404 page not found\n"]);
});

Deno.test("goDuration() formats like Go's time.Duration.String()", () => {
  assertEquals(goDuration(0), "0s");
  assertEquals(goDuration(1500), "1.5µs");
  assertEquals(goDuration(150e6), "150ms");
  assertEquals(goDuration(1.5e9), "1.5s");
  assertEquals(goDuration(182123456789), "3m2.123456789s");
  assertEquals(goDuration(3723e9), "1h2m3s");
});
