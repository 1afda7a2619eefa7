import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import { ConfigError } from "../../src/common/errors.ts";
import { upgradeLegacyAddress } from "../../src/dns/address.ts";
import { buildDnsRouter } from "../../src/dns/build.ts";
import { buildQuery, DnsClient } from "../../src/dns/client.ts";
import { decodeMessage, messageToAddresses } from "../../src/dns/message.ts";
import { dnsSchema } from "../../src/dns/options.ts";
import { DnsRejectedError, DnsRouter } from "../../src/dns/router.ts";
import { compileDnsRule } from "../../src/dns/rule/compile.ts";
import { parseZoneRecord } from "../../src/dns/rule/record.ts";
import type { DnsTransport } from "../../src/dns/transport.ts";
import { FakeIpTransport } from "../../src/dns/transports/fakeip.ts";
import { RCODE, TYPE } from "../../src/dns/wire.ts";
import { FakeTransport } from "./_fake.ts";
import type { Metadata } from "../../src/adapter/types.ts";

function fixed(tag: string, v4: string, v6 = "fd00::1", ttl = 60) {
  return new FakeTransport(tag, (q) => {
    const question = q.questions[0];
    if (question.type === "A") {
      return { answers: [{ name: question.name, type: "A", class: "IN", ttl, data: v4 }] };
    }
    if (question.type === "AAAA") {
      return { answers: [{ name: question.name, type: "AAAA", class: "IN", ttl, data: v6 }] };
    }
    return {};
  });
}

function routerWith(
  rules: unknown[],
  servers: DnsTransport[],
  extra: { final?: string; reverseMapping?: boolean } = {},
) {
  const transports = new Map(servers.map((s) => [s.tag, s]));
  const parsed = dnsSchema.parse({ rules }).rules ?? [];
  const compiled = parsed.map((r, i) =>
    compileDnsRule(r, `dns.rules[${i}]`, { hasServer: (t) => transports.has(t) })
  );
  return new DnsRouter({ client: new DnsClient(), transports, rules: compiled, ...extra });
}

async function ask(router: DnsRouter, name: string, type: number = TYPE.A, metadata?: Metadata) {
  const r = await router.exchange(buildQuery(name, type), metadata);
  if (!r) return null;
  const m = decodeMessage(r);
  return { rcode: m.flags & 0xf, addrs: messageToAddresses(m), m };
}

Deno.test("upgradeLegacyAddress maps every legacy scheme like sing-box", () => {
  const cases: [string, unknown][] = [
    ["local", { type: "local" }],
    ["fakeip", { type: "fakeip" }],
    ["8.8.8.8", { type: "udp", server: "8.8.8.8" }],
    ["8.8.8.8:5353", { type: "udp", server: "8.8.8.8", server_port: 5353 }],
    ["udp://1.1.1.1:53", { type: "udp", server: "1.1.1.1" }],
    ["tcp://[2001:db8::1]:5300", { type: "tcp", server: "2001:db8::1", server_port: 5300 }],
    ["tls://dns.google", { type: "tls", server: "dns.google" }],
    ["tls://1.1.1.1:8853", { type: "tls", server: "1.1.1.1", server_port: 8853 }],
    ["https://dns.google/dns-query", { type: "https", server: "dns.google" }],
    ["https://1.1.1.1:8443/resolve", {
      type: "https",
      server: "1.1.1.1",
      server_port: 8443,
      path: "/resolve",
    }],
    ["h3://dns.google/dns-query", { type: "h3", server: "dns.google" }],
    ["quic://dns.adguard.com", { type: "quic", server: "dns.adguard.com" }],
    ["rcode://refused", { type: "rcode", rcode: RCODE.REFUSED }],
    ["rcode://name_error", { type: "rcode", rcode: RCODE.NXDOMAIN }],
    ["dhcp://auto", { type: "dhcp" }],
    ["dhcp://eth0", { type: "dhcp", interface: "eth0" }],
  ];
  for (const [input, want] of cases) assertEquals(upgradeLegacyAddress(input), want, input);
  assertThrows(() => upgradeLegacyAddress("gopher://x"), ConfigError, "unsupported DNS server scheme");
  assertThrows(() => upgradeLegacyAddress("rcode://nope"), ConfigError, "unknown rcode");
});

Deno.test("dnsSchema accepts sing-box 1.12 keys and rejects unknown ones with a path", () => {
  const parsed = dnsSchema.parse({
    servers: [
      { type: "udp", tag: "u", server: "127.0.0.1", server_port: 5353, detour: "direct" },
      { type: "tls", tag: "t", server: "1.1.1.1", tls: { server_name: "one.one.one.one" } },
      { type: "https", tag: "h", server: "dns.test", path: "/q", headers: { "x-a": "1" } },
      { type: "hosts", tag: "hosts", path: "/etc/hosts", predefined: { "a.test": "1.2.3.4" } },
      { type: "fakeip", tag: "fake", inet4_range: "198.18.0.0/15", inet6_range: "fc00::/18" },
      { type: "local", tag: "local" },
      { tag: "legacy", address: "tls://8.8.8.8", address_resolver: "local", strategy: "ipv4_only" },
    ],
    rules: [
      { domain_suffix: ["test"], query_type: ["A", 28], server: "u", rewrite_ttl: 10 },
      {
        type: "logical",
        mode: "or",
        rules: [{ domain: "x" }, { ip_accept_any: true }],
        action: "reject",
        method: "drop",
      },
      { rule_set: "geo", action: "predefined", rcode: "NXDOMAIN" },
    ],
    final: "u",
    strategy: "prefer_ipv6",
    cache_capacity: 4096,
    independent_cache: true,
    reverse_mapping: true,
    client_subnet: "1.2.3.0/24",
  });
  assertEquals(parsed.servers?.[3], {
    type: "hosts",
    tag: "hosts",
    path: ["/etc/hosts"],
    predefined: { "a.test": ["1.2.3.4"] },
  });
  assertEquals(
    dnsSchema.safeParse({ servers: [{ type: "udp", tag: "u", server: "x", bogus: 1 }] }).success,
    false,
  );
  assertEquals(
    dnsSchema.safeParse({ rules: [{ client: ["chromium"], server: "u" }] }).success,
    false,
    "no client key in DNS rules",
  );
  assertEquals(dnsSchema.safeParse({ strategy: "ipv5" }).success, false);
});

Deno.test("DnsRouter routes by domain_suffix, query_type and logical rules; falls back to final", async () => {
  const a = fixed("a", "10.0.0.1");
  const b = fixed("b", "10.0.0.2");
  const c = fixed("c", "10.0.0.3");
  const router = routerWith(
    [
      { domain_suffix: ["corp.test"], server: "a" },
      { query_type: ["AAAA"], server: "b" },
      {
        type: "logical",
        mode: "and",
        rules: [{ domain_keyword: ["shop"] }, { domain_suffix: ["blocked.test"], invert: true }],
        server: "b",
      },
    ],
    [a, b, c],
    { final: "c" },
  );
  assertEquals((await ask(router, "www.corp.test"))!.addrs, ["10.0.0.1"]);
  assertEquals((await ask(router, "other.test", TYPE.AAAA))!.addrs, ["fd00::1"]);
  assertEquals(b.queries.length, 1);
  assertEquals((await ask(router, "shop.example"))!.addrs, ["10.0.0.2"]);
  assertEquals((await ask(router, "shop.blocked.test"))!.addrs, ["10.0.0.3"]);
  assertEquals((await ask(router, "plain.test"))!.addrs, ["10.0.0.3"]);
});

Deno.test("DnsRouter reject answers REFUSED, reject drop answers nothing, predefined answers from rule", async () => {
  const up = fixed("up", "10.0.0.1");
  const router = routerWith([
    { domain: ["ads.test"], action: "reject" },
    { domain: ["drop.test"], action: "reject", method: "drop" },
    { domain_suffix: ["fixed.test"], action: "predefined", answer: ["*.fixed.test. 30 IN A 192.0.2.7"] },
    { domain: ["gone.test"], action: "predefined", rcode: "NXDOMAIN" },
  ], [up]);
  const rej = await ask(router, "ads.test");
  assertEquals([rej!.rcode, rej!.addrs], [RCODE.REFUSED, []]);
  assertEquals(await ask(router, "drop.test"), null);
  const fixedAnswer = await ask(router, "a.fixed.test");
  assertEquals(fixedAnswer!.addrs, ["192.0.2.7"]);
  assertEquals(fixedAnswer!.m.answers[0].name, "a.fixed.test");
  assertEquals(fixedAnswer!.m.answers[0].ttl, 30);
  assertEquals((await ask(router, "gone.test"))!.rcode, RCODE.NXDOMAIN);
  assertEquals(up.queries.length, 0);
  await assertRejects(() => router.lookup("ads.test"), DnsRejectedError);
  assertEquals(await router.lookup("x.fixed.test"), ["192.0.2.7"]);
});

Deno.test("DnsRouter route-options applies to the later route; strategy and rewrite_ttl honoured", async () => {
  const up = fixed("up", "10.0.0.1");
  const router = routerWith([
    { domain_suffix: ["v4.test"], action: "route-options", strategy: "ipv4_only", rewrite_ttl: 7 },
    { domain_suffix: ["test"], server: "up" },
  ], [up]);
  const r = await ask(router, "a.v4.test");
  assertEquals(r!.m.answers[0].ttl, 7);
  const r6 = await ask(router, "a.v4.test", TYPE.AAAA);
  assertEquals(r6!.addrs, []);
  assertEquals(await router.lookup("b.v4.test"), ["10.0.0.1"]);
});

Deno.test("DnsRouter response address filters fall through to the next rule", async () => {
  const privateUp = fixed("private", "192.168.1.10");
  const publicUp = fixed("public", "8.8.4.4");
  const router = routerWith([
    { domain_suffix: ["test"], ip_is_private: true, server: "private", invert: false },
    { domain_suffix: ["test"], ip_cidr: ["8.8.0.0/16"], server: "public" },
    { domain_suffix: ["test"], ip_accept_any: true, server: "private" },
  ], [privateUp, publicUp]);
  // The private server answers a private address: the first rule accepts it.
  assertEquals((await ask(router, "a.test"))!.addrs, ["192.168.1.10"]);
  // Address filters only apply to address queries; TXT skips those rules and goes to final.
  await ask(router, "t.test", TYPE.TXT);
  const privateOnly = routerWith([
    { ip_cidr: ["10.0.0.0/8"], server: "private" },
    { domain_suffix: ["test"], server: "public" },
  ], [privateUp, publicUp]);
  assertEquals((await ask(privateOnly, "b.test"))!.addrs, ["8.8.4.4"], "192.168.x fails 10/8, next rule");
  assertEquals(await privateOnly.lookup("c.test", { strategy: "ipv4_only" }), ["8.8.4.4"]);
  // As in sing-box, a domain item that matched satisfies the destination-address group, so
  // the ip_cidr next to it does not filter the response.
  const quirk = routerWith([
    { domain_suffix: ["test"], ip_cidr: ["10.0.0.0/8"], server: "private" },
    { domain_suffix: ["test"], server: "public" },
  ], [privateUp, publicUp]);
  assertEquals((await ask(quirk, "d.test"))!.addrs, ["192.168.1.10"]);
});

Deno.test("DnsRouter fakeip: allocation, reverse lookup, and lookups never return fake addresses", async () => {
  const fake = new FakeIpTransport({ tag: "fake", inet4Range: "198.18.0.0/15", inet6Range: "fc00::/18" });
  const real = fixed("real", "10.0.0.9");
  const router = routerWith([{ query_type: ["A", "AAAA"], server: "fake" }], [real, fake], {
    final: "real",
    reverseMapping: true,
  });
  const r = await ask(router, "Netflix.test");
  assertEquals(r!.addrs, ["198.18.0.2"]);
  assertEquals((await ask(router, "netflix.test", TYPE.AAAA))!.addrs, ["fc00::2"]);
  assertEquals(router.reverseLookup("198.18.0.2"), "netflix.test");
  assertEquals(router.reverseLookup("fc00::2"), "netflix.test");
  // Again: same fake address, not cached by the client (fake answers bypass the cache).
  assertEquals((await ask(router, "netflix.test"))!.addrs, ["198.18.0.2"]);
  assertEquals(await router.lookup("netflix.test", { strategy: "ipv4_only" }), ["10.0.0.9"]);
  // Reverse mapping of a real answer.
  await ask(router, "real.test", TYPE.TXT);
  const direct = await router.exchange(buildQuery("mapped.test", TYPE.A), undefined, { server: "real" });
  assert(direct);
  assertEquals(router.reverseLookup("10.0.0.9"), "mapped.test");
});

Deno.test("DnsRouter matches inbound, auth_user, source and port fields from the metadata", async () => {
  const a = fixed("a", "10.0.0.1");
  const b = fixed("b", "10.0.0.2");
  const router = routerWith(
    [
      { inbound: ["dns-in"], source_ip_cidr: ["10.1.0.0/16"], server: "a" },
      { auth_user: ["alice"], server: "a" },
      { network: ["tcp"], source_port_range: ["1000:2000"], server: "a" },
    ],
    [b, a],
    { final: "b" },
  );
  const md = (o: Partial<Metadata>): Metadata => ({
    inbound: "other",
    inboundType: "direct",
    network: "udp",
    source: { host: "10.9.0.1", port: 5000 },
    destination: { host: "127.0.0.1", port: 53 },
    ...o,
  });
  assertEquals(
    (await ask(router, "x.test", TYPE.A, md({ inbound: "dns-in", source: { host: "10.1.2.3", port: 1 } })))!
      .addrs,
    [
      "10.0.0.1",
    ],
  );
  assertEquals((await ask(router, "y.test", TYPE.A, md({ inbound: "dns-in" })))!.addrs, ["10.0.0.2"]);
  assertEquals((await ask(router, "z.test", TYPE.A, md({ user: "alice" })))!.addrs, ["10.0.0.1"]);
  assertEquals(
    (await ask(router, "w.test", TYPE.A, md({ network: "tcp", source: { host: "1.1.1.1", port: 1500 } })))!
      .addrs,
    ["10.0.0.1"],
  );
});

Deno.test("buildDnsRouter builds servers from config, legacy included, and reports bad references by path", async () => {
  const router = buildDnsRouter(dnsSchema.parse({
    servers: [
      { type: "hosts", tag: "hosts", predefined: { "h.test": ["10.7.7.7"] } },
      { tag: "refuse", address: "rcode://refused" },
      { type: "fakeip", tag: "fake", inet4_range: "198.18.0.0/15" },
    ],
    rules: [{ domain: ["no.test"], server: "refuse" }],
    final: "hosts",
  }));
  try {
    assertEquals((await ask(router, "h.test"))!.addrs, ["10.7.7.7"]);
    assertEquals((await ask(router, "no.test"))!.rcode, RCODE.REFUSED);
    assertEquals(await router.lookup("h.test"), ["10.7.7.7"]);
  } finally {
    await router.close();
  }
  assertThrows(
    () =>
      buildDnsRouter(
        dnsSchema.parse({ servers: [{ type: "local", tag: "l" }], rules: [{ domain: "x", server: "nope" }] }),
      ),
    ConfigError,
    'dns.rules[0].server: DNS server "nope" not found',
  );
  assertThrows(
    () => buildDnsRouter(dnsSchema.parse({ servers: [{ type: "local", tag: "l" }], final: "x" })),
    ConfigError,
    "dns.final",
  );
  assertThrows(
    () => buildDnsRouter(dnsSchema.parse({ servers: [{ type: "h3", tag: "h", server: "1.1.1.1" }] })),
    ConfigError,
    "not included",
  );
  assertThrows(
    () => buildDnsRouter(dnsSchema.parse({ servers: [{ type: "fakeip", tag: "f" }] })),
    ConfigError,
    "inet4_range",
  );
});

Deno.test("parseZoneRecord reads presentation-format records", () => {
  assertEquals(parseZoneRecord("a.test. 60 IN A 1.2.3.4"), {
    name: "a.test",
    type: "A",
    class: "IN",
    ttl: 60,
    data: "1.2.3.4",
  });
  assertEquals(parseZoneRecord("a.test AAAA ::1").ttl, 3600);
  assertEquals(parseZoneRecord('t.test. IN TXT "hello world" x').data, ["hello world", "x"]);
  assertEquals(parseZoneRecord("m.test. MX 10 mail.test.").data, { preference: 10, exchange: "mail.test" });
  assertThrows(() => parseZoneRecord("a.test A 999.1.1.1"), SyntaxError);
  assertThrows(() => parseZoneRecord("a.test LOC 1"), SyntaxError);
});

Deno.test("resolverFor uses the outbound's domain_resolver, then the default, then the rules", async () => {
  const { resolverFor, lookupOptions } = await import("../../src/dns/resolver.ts");
  const a = fixed("a", "10.0.0.1");
  const b = fixed("b", "10.0.0.2");
  const router = routerWith([{ domain_suffix: ["ruled.test"], server: "b" }], [a, b]);
  assertEquals(await resolverFor(router, "b")("x.test"), ["10.0.0.2", "fd00::1"]);
  assertEquals(await resolverFor(router, undefined, { server: "b", strategy: "ipv6_only" })("x.test"), [
    "fd00::1",
  ]);
  assertEquals(await resolverFor(router)("www.ruled.test"), ["10.0.0.2", "fd00::1"]);
  assertEquals(await resolverFor(router, undefined, undefined, "ipv4_only")("plain.test"), ["10.0.0.1"]);
  assertEquals(
    lookupOptions({ server: "s", disable_cache: true, rewrite_ttl: 5, client_subnet: "1.2.3.0/24" }),
    {
      server: "s",
      disableCache: true,
      rewriteTtl: 5,
      clientSubnet: "1.2.3.0/24",
    },
  );
});

Deno.test("DnsRouter rule_set with ip_cidr filters responses (geoip style) and honours accept_empty", async () => {
  const { CompiledRuleSet } = await import("../../src/route/rule_set/match.ts");
  const cn = new CompiledRuleSet({ version: 3, rules: [{ ip_cidr: ["10.0.0.0/8"] }] });
  const domestic = fixed("domestic", "10.0.0.1");
  const foreign = fixed("foreign", "8.8.8.8");
  const empty = new FakeTransport("empty", () => ({}));
  const build = (rules: unknown[], servers: DnsTransport[]) => {
    const transports = new Map(servers.map((s) => [s.tag, s]));
    const compiled = (dnsSchema.parse({ rules }).rules ?? []).map((r, i) =>
      compileDnsRule(r, `dns.rules[${i}]`, {
        hasServer: (t) => transports.has(t),
        ruleSet: (t) => (t === "cn" ? cn : undefined),
      })
    );
    return new DnsRouter({ client: new DnsClient(), transports, rules: compiled });
  };
  const router = build([{ rule_set: "cn", server: "domestic" }, { rule_set: "cn", server: "foreign" }], [
    foreign,
    domestic,
  ]);
  assertEquals((await ask(router, "a.test"))!.addrs, ["10.0.0.1"], "domestic answer in the set: accepted");
  const router2 = build([{ rule_set: "cn", server: "foreign" }], [domestic, foreign]);
  assertEquals((await ask(router2, "b.test"))!.addrs, ["10.0.0.1"], "foreign answer rejected; final server");
  const router3 = build([{ rule_set: "cn", rule_set_ip_cidr_accept_empty: true, server: "empty" }], [
    foreign,
    empty,
  ]);
  assertEquals((await ask(router3, "c.test"))!.addrs, [], "empty answer accepted");
  const router4 = build([{ rule_set: "cn", server: "empty" }], [foreign, empty]);
  assertEquals(
    (await ask(router4, "d.test"))!.addrs,
    ["8.8.8.8"],
    "empty answer rejected without accept_empty",
  );
  assertThrows(
    () => build([{ rule_set: "nope", server: "empty" }], [empty]),
    ConfigError,
    'rule-set "nope" not found',
  );
});

Deno.test("a DNS rule compiled before its local rule-set loads becomes an address filter once the set has ip_cidr", async () => {
  const { RuleSet, ruleSetOptionsSchema } = await import("../../src/route/rule_set/provider.ts");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cn.json`;
  await Deno.writeTextFile(path, JSON.stringify({ version: 3, rules: [{ ip_cidr: ["10.0.0.0/8"] }] }));
  const set = new RuleSet(ruleSetOptionsSchema.parse({ tag: "cn", type: "local", path }));
  try {
    const transports = new Map<string, DnsTransport>([["foreign", fixed("foreign", "8.8.8.8")]]);
    const [rule] = (dnsSchema.parse({ rules: [{ rule_set: "cn", server: "foreign" }] }).rules ?? []).map((
      r,
    ) => compileDnsRule(r, "dns.rules[0]", { hasServer: (t) => transports.has(t), ruleSet: () => set }));
    assertEquals(rule!.addressLimit, false, "nothing loaded yet");
    await set.start();
    assertEquals(rule!.addressLimit, true);
    const router = new DnsRouter({
      client: new DnsClient(),
      transports: new Map([...transports, ["local", fixed("local", "10.0.0.9")]]),
      rules: [rule!],
      final: "local",
    });
    assertEquals((await ask(router, "x.test"))!.addrs, ["10.0.0.9"], "8.8.8.8 is outside the set: rejected");
  } finally {
    await set.close();
    await Deno.remove(dir, { recursive: true });
  }
});
