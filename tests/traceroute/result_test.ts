import { assert, assertEquals } from "./_assert.ts";
import {
  emptyResults,
  float32Value,
  newId,
  normalize,
  removePrivateHops,
  type Results,
  toCompactJSON,
  toPrettyJSON,
  type TracerouteRun,
} from "../../src/traceroute/result.ts";

function run(ips: string[], dest = "198.51.100.2"): TracerouteRun {
  return {
    run_id: "",
    source: { ip_address: "192.0.2.1", port: 51873 },
    destination: { ip_address: dest, port: 33434 },
    hops: ips.map((ip, i) => ({ ttl: i + 1, ip_address: ip, rtt: ip ? 0.5 * (i + 1) : 0, reachable: false })),
  };
}

Deno.test("newId() is base64url of a UUIDv4: 22 chars, no padding", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const id = newId();
    assert(/^[A-Za-z0-9_-]{22}$/.test(id), id);
    const b = Uint8Array.from(atob(id.replace(/-/g, "+").replace(/_/g, "/") + "=="), (c) => c.charCodeAt(0));
    assertEquals(b[6] >> 4, 4, "version 4");
    assertEquals(b[8] >> 6, 2, "RFC 4122 variant");
    seen.add(id);
  }
  assertEquals(seen.size, 200);
});

Deno.test("normalize(): hop counts use the last answered hop, or all hops when none answered", () => {
  const r = emptyResults();
  r.traceroute.runs = [run(["192.0.2.2", "198.51.100.2"]), run(["", "198.51.100.2"]), run(["", "", ""])];
  normalize(r);
  assertEquals(r.traceroute.hop_count, { avg: (2 + 2 + 3) / 3, min: 2, max: 3 });
  assertEquals(r.traceroute.runs[1].hops.map((h) => h.reachable), [false, true]);
  assert(r.traceroute.runs.every((x) => x.run_id.length === 22));
  assertEquals(r.test_run_id.length, 22);
});

Deno.test("normalize(): hop_count min quirk lets a later count overwrite 0", () => {
  const r = emptyResults();
  r.traceroute.runs = [run([]), run(["1.1.1.1", "", "2.2.2.2"])];
  normalize(r);
  assertEquals(r.traceroute.hop_count, { avg: 1.5, min: 3, max: 3 });
});

Deno.test("normalize(): e2e stats over received RTTs, loss as float32 fraction, jitter in order", () => {
  const r = emptyResults();
  r.e2e_probe.rtts = [1.5, 1.25, 0, 2];
  normalize(r);
  assertEquals(r.e2e_probe.packets_sent, 4);
  assertEquals(r.e2e_probe.packets_received, 3);
  assertEquals(r.e2e_probe.packet_loss_percentage, 0.25);
  assertEquals(r.e2e_probe.jitter, 0.5);
  assertEquals(r.e2e_probe.rtt, { avg: 4.75 / 3, min: 1.25, max: 2 });
  const z = emptyResults();
  z.e2e_probe.rtts = [0, 0, 0];
  normalize(z);
  assertEquals(z.e2e_probe.packet_loss_percentage, 1);
  assertEquals(z.e2e_probe.rtt, { avg: 0, min: 0, max: 0 });
  assertEquals(z.e2e_probe.jitter, 0);
});

Deno.test("float32Value() prints like Go float32 (0.2, 0.1, 0.3333333)", () => {
  assertEquals(String(float32Value(1 / 5)), "0.2");
  assertEquals(String(float32Value(1 / 10)), "0.1");
  assertEquals(String(float32Value(1 / 3)), "0.33333334");
  assertEquals(String(float32Value(2 / 3)), "0.6666667");
  assertEquals(String(float32Value(7 / 50)), "0.14");
});

Deno.test("removePrivateHops() blanks RFC1918/fc00::/7 hops after the stats", () => {
  const r = emptyResults();
  r.traceroute.runs = [run(["10.0.0.1", "100.64.0.1", "127.0.0.1", "198.51.100.2"])];
  r.traceroute.runs[0].hops[0].reverse_dns = ["gw."];
  normalize(r);
  removePrivateHops(r);
  assertEquals(r.traceroute.runs[0].hops[0], { ttl: 1, ip_address: "", rtt: 0, reachable: false });
  assertEquals(r.traceroute.runs[0].hops[1].ip_address, "100.64.0.1", "CGNAT is not private");
  assertEquals(r.traceroute.hop_count.max, 4, "not recomputed");
});

Deno.test("toPrettyJSON(): field order, null runs/rtts, omitted reverse_dns, Go numbers and escapes", () => {
  const r: Results = emptyResults();
  r.protocol = "udp";
  r.destination = { hostname: "a<b>&c", port: 33434 };
  const json = toPrettyJSON(r);
  assert(json.endsWith("}\n"));
  assert(json.includes('"hostname": "a\\u003cb\\u003e\\u0026c"'));
  assert(json.includes('"runs": null'));
  assert(json.includes('"rtts": null'));
  assertEquals(Object.keys(JSON.parse(json)), [
    "test_run_id",
    "protocol",
    "source",
    "destination",
    "traceroute",
    "e2e_probe",
  ]);
  assertEquals(Object.keys(JSON.parse(json).e2e_probe), [
    "rtts",
    "packets_sent",
    "packets_received",
    "packet_loss_percentage",
    "jitter",
    "rtt",
  ]);
  r.traceroute.runs = [run(["192.0.2.2", ""])];
  r.traceroute.runs[0].hops[0].reverse_dns = ["r1.example."];
  const obj = JSON.parse(toCompactJSON(r));
  assertEquals(Object.keys(obj.traceroute.runs[0]), ["run_id", "source", "destination", "hops"]);
  assertEquals(Object.keys(obj.traceroute.runs[0].hops[0]), [
    "ttl",
    "ip_address",
    "rtt",
    "reachable",
    "reverse_dns",
  ]);
  assertEquals(Object.keys(obj.traceroute.runs[0].hops[1]), ["ttl", "ip_address", "rtt", "reachable"]);
  assert(!("reverse_dns" in obj.traceroute.runs[0].destination));
  // Go writes whole floats without a decimal point and tiny ones in exponent form
  assertEquals(
    toCompactJSON({ a: 3, b: 0, c: 1e-7, d: 0.083412, e: 1e21 }),
    '{"a":3,"b":0,"c":1e-7,"d":0.083412,"e":1e+21}\n',
  );
  assert(!toCompactJSON(r).includes(" "), "compact");
});
