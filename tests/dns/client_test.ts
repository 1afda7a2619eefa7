import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { buildQuery, DnsClient, RcodeError, ResponseRejectedError } from "../../src/dns/client.ts";
import { decodeMessage, messageToAddresses } from "../../src/dns/message.ts";
import { UdpTransport } from "../../src/dns/transports/udp.ts";
import { getId, RCODE, TYPE } from "../../src/dns/wire.ts";
import { addressAnswer, CountingTransport, FakeTransport } from "./_fake.ts";
import { hasCommand, makeTestCert, startDnsmasq, startUnbound } from "./_peers.ts";

function ttls(bytes: Uint8Array): number[] {
  return decodeMessage(bytes).answers.map((a) => a.ttl ?? -1);
}

Deno.test("DnsClient serves a repeated question from the cache with the remaining TTL, then expires it", async () => {
  let now = 1_000_000;
  const client = new DnsClient({ clock: () => now });
  const t = new FakeTransport("f", addressAnswer(60));
  const q1 = buildQuery("a.test", TYPE.A);
  const r1 = await client.exchange(t, q1);
  assertEquals(getId(r1), getId(q1));
  assertEquals(ttls(r1), [60]);
  now += 25_500;
  const q2 = buildQuery("A.TEST", TYPE.A);
  const r2 = await client.exchange(t, q2);
  assertEquals(t.queries.length, 1, "second query is a cache hit (names are case-insensitive)");
  assertEquals(getId(r2), getId(q2));
  assertEquals(ttls(r2), [34]);
  now += 35_000;
  await client.exchange(t, buildQuery("a.test", TYPE.A));
  assertEquals(t.queries.length, 2, "expired entry goes upstream again");
});

Deno.test("DnsClient rewrite_ttl, disable_cache, disable_expire", async () => {
  let now = 0;
  const t = new FakeTransport("f", addressAnswer(60));
  const client = new DnsClient({ clock: () => now });
  assertEquals(ttls(await client.exchange(t, buildQuery("r.test", TYPE.A), { rewriteTtl: 5 })), [5]);
  now += 6000;
  await client.exchange(t, buildQuery("r.test", TYPE.A));
  assertEquals(t.queries.length, 2, "rewritten TTL also bounds the cache lifetime");
  await client.exchange(t, buildQuery("n.test", TYPE.A), { disableCache: true });
  await client.exchange(t, buildQuery("n.test", TYPE.A), { disableCache: true });
  assertEquals(t.queries.length, 4);

  const forever = new DnsClient({ clock: () => now, disableExpire: true });
  const t2 = new FakeTransport("f", addressAnswer(1));
  await forever.exchange(t2, buildQuery("e.test", TYPE.A));
  now += 3_600_000;
  assertEquals(ttls(await forever.exchange(t2, buildQuery("e.test", TYPE.A))), [1]);
  assertEquals(t2.queries.length, 1);

  const off = new DnsClient({ disableCache: true });
  await off.exchange(t2, buildQuery("e.test", TYPE.A));
  await off.exchange(t2, buildQuery("e.test", TYPE.A));
  assertEquals(t2.queries.length, 3);
  assertEquals(off.cacheSize, 0);
});

Deno.test("DnsClient shares the cache across servers unless independent_cache is set", async () => {
  const a = new FakeTransport("a", addressAnswer());
  const b = new FakeTransport("b", addressAnswer());
  const shared = new DnsClient();
  await shared.exchange(a, buildQuery("s.test", TYPE.A));
  await shared.exchange(b, buildQuery("s.test", TYPE.A));
  assertEquals([a.queries.length, b.queries.length], [1, 0]);
  const independent = new DnsClient({ independentCache: true });
  await independent.exchange(a, buildQuery("s.test", TYPE.A));
  await independent.exchange(b, buildQuery("s.test", TYPE.A));
  await independent.exchange(b, buildQuery("s.test", TYPE.A));
  assertEquals([a.queries.length, b.queries.length], [2, 1]);
});

Deno.test("DnsClient strategy: ipv4_only answers AAAA with an empty NOERROR without asking", async () => {
  const t = new FakeTransport("f", addressAnswer());
  const client = new DnsClient();
  const r = decodeMessage(
    await client.exchange(t, buildQuery("x.test", TYPE.AAAA), { strategy: "ipv4_only" }),
  );
  assertEquals(r.flags & 0xf, RCODE.NOERROR);
  assertEquals(r.answers.length, 0);
  assertEquals(t.queries.length, 0);
  assertEquals(await client.lookup(t, "x.test", { strategy: "ipv4_only" }), ["10.0.0.1"]);
  assertEquals(await client.lookup(t, "y.test", { strategy: "ipv6_only" }), ["fd00::1"]);
  assertEquals(await client.lookup(t, "z.test", { strategy: "prefer_ipv6" }), ["fd00::1", "10.0.0.1"]);
  assertEquals(await client.lookup(t, "w.test"), ["10.0.0.1", "fd00::1"]);
});

Deno.test("DnsClient attaches EDNS0 client subnet and does not cache such queries", async () => {
  const t = new FakeTransport("f", addressAnswer());
  const client = new DnsClient({ clientSubnet: "203.0.113.0/24" });
  await client.exchange(t, buildQuery("c.test", TYPE.A));
  await client.exchange(t, buildQuery("c.test", TYPE.A), { clientSubnet: "2001:db8::/56" });
  assertEquals(t.queries.length, 2);
  const ecs = t.queries.map((q) =>
    q.additionals.find((r) => r.type === "OPT")!.options!.find((o) => o.code === 8)!
  );
  assertEquals([ecs[0].family, ecs[0].sourcePrefixLength, ecs[0].ip], [1, 24, "203.0.113.0"]);
  assertEquals([ecs[1].family, ecs[1].sourcePrefixLength], [2, 56]);
});

Deno.test("DnsClient response checker rejects and the RDRC short-cuts the next attempt", async () => {
  const saved = new Set<string>();
  const rdrc = {
    load: (tag: string, name: string, type: number) => saved.has(`${tag}/${name}/${type}`),
    save: (tag: string, name: string, type: number) => void saved.add(`${tag}/${name}/${type}`),
  };
  const t = new FakeTransport("f", addressAnswer());
  const client = new DnsClient({ rdrc });
  const onlyPublic = (addrs: string[]) => addrs.some((a) => !a.startsWith("10."));
  const e = await assertRejects(
    () => client.exchange(t, buildQuery("p.test", TYPE.A), {}, onlyPublic),
    ResponseRejectedError,
  );
  assertEquals(e.cached, false);
  assert(e.response);
  const e2 = await assertRejects(
    () => client.exchange(t, buildQuery("p.test", TYPE.A), {}, onlyPublic),
    ResponseRejectedError,
  );
  assertEquals(e2.cached, true);
  assertEquals(t.queries.length, 1);
  // Without an address filter the RDRC is not consulted.
  assertEquals(messageToAddresses(decodeMessage(await client.exchange(t, buildQuery("p.test", TYPE.A)))), [
    "10.0.0.1",
  ]);
});

Deno.test("DnsClient lookup throws RcodeError for NXDOMAIN and caches the negative answer by SOA minimum", async () => {
  let now = 0;
  const t = new FakeTransport("f", (q) => ({
    flags: 0x0180 | RCODE.NXDOMAIN,
    authorities: [{
      name: "test",
      type: "SOA",
      class: "IN",
      ttl: 3600,
      data: {
        mname: "ns.test",
        rname: "admin.test",
        serial: 1,
        refresh: 1,
        retry: 1,
        expire: 1,
        minimum: 45,
      },
    }],
    questions: q.questions,
  }));
  const client = new DnsClient({ clock: () => now });
  const e = await assertRejects(() => client.lookup(t, "gone.test", { strategy: "ipv4_only" }), RcodeError);
  assertEquals(e.rcode, RCODE.NXDOMAIN);
  const r = decodeMessage(await client.exchange(t, buildQuery("gone.test", TYPE.A)));
  assertEquals(r.authorities[0].ttl, 45);
  assertEquals(t.queries.length, 1);
  now += 46_000;
  await client.exchange(t, buildQuery("gone.test", TYPE.A));
  assertEquals(t.queries.length, 2);
});

Deno.test("DnsClient does not cache SERVFAIL and times out a silent server", async () => {
  const t = new FakeTransport("f", () => ({ flags: 0x0180 | RCODE.SERVFAIL }));
  const client = new DnsClient({ timeoutMs: 150 });
  await client.exchange(t, buildQuery("s.test", TYPE.A));
  await client.exchange(t, buildQuery("s.test", TYPE.A));
  assertEquals(t.queries.length, 2);
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const udp = new UdpTransport({
      tag: "u",
      server: "127.0.0.1",
      serverPort: (silent.addr as Deno.NetAddr).port,
    });
    const started = Date.now();
    await assertRejects(() => client.exchange(udp, buildQuery("s.test", TYPE.A)), Error);
    assert(Date.now() - started < 1500);
  } finally {
    silent.close();
  }
});

Deno.test("DnsClient merges identical concurrent questions into one upstream exchange", async () => {
  const t = new FakeTransport("f", addressAnswer());
  const client = new DnsClient();
  const results = await Promise.all(
    Array.from({ length: 8 }, () => client.exchange(t, buildQuery("m.test", TYPE.A))),
  );
  assertEquals(t.queries.length, 1);
  for (const r of results) assertEquals(messageToAddresses(decodeMessage(r)), ["10.0.0.1"]);
});

Deno.test({
  name: "DnsClient against dnsmasq: cache hit served without a second upstream query",
  ignore: !hasCommand("dnsmasq"),
  async fn() {
    const peer = await startDnsmasq();
    try {
      const udp = new CountingTransport(
        new UdpTransport({ tag: "u", server: "127.0.0.1", serverPort: peer.port }),
      );
      let now = 0;
      const client = new DnsClient({ clock: () => now });
      assertEquals(await client.lookup(udp, "x.test"), ["10.99.9.9", "fd00::99"]);
      now += 100_000;
      const r = await client.exchange(udp, buildQuery("x.test", TYPE.A));
      assertEquals(ttls(r), [200]);
      assertEquals(udp.count, 2);
      now += 201_000;
      await client.exchange(udp, buildQuery("x.test", TYPE.A));
      assertEquals(udp.count, 3);
    } finally {
      await peer.close();
    }
  },
});

Deno.test({
  name: "DnsClient against unbound: NXDOMAIN in the test zone carries the SOA TTL",
  ignore: !hasCommand("unbound") || !hasCommand("openssl"),
  async fn() {
    const cert = await makeTestCert();
    const peer = await startUnbound(cert);
    try {
      const udp = new CountingTransport(
        new UdpTransport({ tag: "u", server: "127.0.0.1", serverPort: peer.port }),
      );
      const client = new DnsClient();
      const r = decodeMessage(await client.exchange(udp, buildQuery("none.test", TYPE.A)));
      assertEquals(r.flags & 0xf, RCODE.NXDOMAIN);
      assertEquals(r.authorities[0]?.ttl, 45);
      await client.exchange(udp, buildQuery("none.test", TYPE.A));
      assertEquals(udp.count, 1);
    } finally {
      await peer.close();
      await Deno.remove(cert.dir, { recursive: true });
    }
  },
});
