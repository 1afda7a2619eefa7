import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { hasPort, joinHostPort, parseTarget, splitHostPort } from "../../src/traceroute/target.ts";
import { DNSError, InvalidTargetError } from "../../src/traceroute/errors.ts";
import {
  clearPublicIpCache,
  enrichWithReverseDns,
  getPublicIP,
  parseHosts,
} from "../../src/traceroute/enrich.ts";
import { emptyResults } from "../../src/traceroute/result.ts";

const resolve = (h: string) =>
  Promise.resolve(
    ({
      "dual.test": ["2001:db8::1", "192.0.2.7"],
      "v6only.test": ["2001:db8::2"],
      "v4.test": ["192.0.2.8"],
    } as Record<
      string,
      string[]
    >)[h] ?? [],
  );

Deno.test("hasPort()/splitHostPort() follow Go: bare IPv6 is port-less", () => {
  assert(hasPort("host:80"));
  assert(hasPort("[::1]:80"));
  assert(!hasPort("::1"));
  assert(!hasPort("host"));
  assert(!hasPort("[::1]"));
  assertEquals(joinHostPort("::1", "80"), "[::1]:80");
  assertEquals(splitHostPort("[::1]:80"), { host: "::1", port: "80" });
  assertThrows(() => splitHostPort("host"), InvalidTargetError, "missing port in address");
  assertThrows(() => splitHostPort("a:b:c"), InvalidTargetError, "too many colons");
  assertThrows(() => splitHostPort("[::1"), InvalidTargetError, "missing ']'");
});

Deno.test("parseTarget(): literals, embedded ports, IPv4 selection and the --ipv6 first-address quirk", async () => {
  assertEquals(await parseTarget("10.0.0.1", 33434, false, resolve), { ip: "10.0.0.1", port: 33434 });
  assertEquals(await parseTarget("10.0.0.1:443", 33434, false, resolve), { ip: "10.0.0.1", port: 443 });
  assertEquals(await parseTarget("2001:db8::5", 80, false, resolve), { ip: "2001:db8::5", port: 80 });
  assertEquals(await parseTarget("[2001:db8::5]:53", 80, false, resolve), { ip: "2001:db8::5", port: 53 });
  assertEquals(await parseTarget("[2001:db8::5]", 80, false, resolve), { ip: "2001:db8::5", port: 80 });
  assertEquals(await parseTarget("dual.test", 80, false, resolve), { ip: "192.0.2.7", port: 80 });
  assertEquals(await parseTarget("dual.test", 80, true, resolve), { ip: "2001:db8::1", port: 80 });
  assertEquals(
    await parseTarget("v4.test", 80, true, resolve),
    { ip: "192.0.2.8", port: 80 },
    "IPv4 in v6 mode",
  );
  await assertRejects(
    () => parseTarget("v6only.test", 80, false, resolve),
    DNSError,
    "no IPv4 address found",
  );
  await assertRejects(() => parseTarget("none.test", 80, false, resolve), DNSError, "no addresses found");
  await assertRejects(
    () => parseTarget("10.0.0.1:0", 80, false, resolve),
    InvalidTargetError,
    "invalid port: 0",
  );
  await assertRejects(
    () => parseTarget("10.0.0.1:x", 80, false, resolve),
    InvalidTargetError,
    "invalid port: x",
  );
  await assertRejects(
    () => parseTarget("10.0.0.1", 65536, false, resolve),
    InvalidTargetError,
    "invalid port: 65536",
  );
});

Deno.test("parseHosts() maps addresses to dotted names like Go", () => {
  const m = parseHosts(
    "# c\n127.0.0.1 localhost loopback\n::1 ip6-localhost\n10.0.0.1 gw.lab. # x\nbad line\n",
  );
  assertEquals(m.get("127.0.0.1"), ["localhost.", "loopback."]);
  assertEquals(m.get("::1"), ["ip6-localhost."]);
  assertEquals(m.get("10.0.0.1"), ["gw.lab."]);
});

Deno.test("enrichWithReverseDns(): one lookup per IP, failures leave the field out", async () => {
  const r = emptyResults();
  r.traceroute.runs = [{
    run_id: "",
    source: { ip_address: "10.0.0.9", port: 1 },
    destination: { ip_address: "10.0.0.3", port: 80 },
    hops: [
      { ttl: 1, ip_address: "10.0.0.1", rtt: 1, reachable: true },
      { ttl: 2, ip_address: "", rtt: 0, reachable: false },
      { ttl: 3, ip_address: "10.0.0.3", rtt: 1, reachable: true },
    ],
  }];
  const asked: string[] = [];
  await enrichWithReverseDns(r, (ip) => {
    asked.push(ip);
    return ip === "10.0.0.3" ? Promise.resolve(["t.lab."]) : Promise.reject(new Error("NXDOMAIN"));
  });
  assertEquals(asked.sort(), ["10.0.0.1", "10.0.0.3"]);
  const run = r.traceroute.runs[0];
  assertEquals(run.destination.reverse_dns, ["t.lab."]);
  assertEquals(run.hops[2].reverse_dns, ["t.lab."]);
  assert(!("reverse_dns" in run.hops[0]));
});

Deno.test("getPublicIP(): first service with an IP body wins; 4xx and garbage move on; all failing rejects", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      const p = new URL(req.url).pathname;
      if (p === "/404") return new Response("no", { status: 404 });
      if (p === "/junk") return new Response("<html>");
      return new Response(" 203.0.113.9\n");
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    clearPublicIpCache();
    assertEquals(await getPublicIP([`${base}/404`, `${base}/junk`, `${base}/ip`], 500), "203.0.113.9");
    assertEquals(await getPublicIP([`${base}/404`], 500), "203.0.113.9", "cached");
    clearPublicIpCache();
    await assertRejects(() => getPublicIP([`${base}/404`, `${base}/junk`, "http://127.0.0.1:1/"], 300));
  } finally {
    clearPublicIpCache();
    ac.abort();
    await server.finished;
  }
});
