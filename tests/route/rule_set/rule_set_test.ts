import { deflateSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import { buildDomainSet, dumpDomainSet } from "../../../src/route/rule_set/domain_set.ts";
import { buildIpSet, ipSetContains, rangesToPrefixes } from "../../../src/route/rule_set/ip_set.ts";
import { adguardRegex, CompiledRuleSet } from "../../../src/route/rule_set/match.ts";
import {
  formatRuleSetSource,
  parseRuleSetSource,
  type PlainRuleSet,
} from "../../../src/route/rule_set/source.ts";
import { readSrs, RuleSetFormatError, writeSrs } from "../../../src/route/rule_set/srs.ts";
import { buildSuccinctSet, succinctKeys } from "../../../src/route/rule_set/succinct.ts";
import { convertAdGuard } from "../../../src/route/rule_set/adguard.ts";
import { ConfigError } from "../../../src/common/errors.ts";
import type { Metadata } from "../../../src/adapter/types.ts";

function ctx(target: string, extra: Partial<Metadata> = {}, queryType = 0) {
  const ip = /^[\d.]+$|:/.test(target);
  return {
    metadata: {
      inbound: "",
      inboundType: "",
      network: "tcp" as const,
      source: { host: "10.0.0.1", port: 40000 },
      destination: { host: ip ? target : "", port: 443 },
      ...extra,
    },
    domain: ip ? undefined : target,
    destinationIps: ip ? [target] : [],
    queryType,
  };
}

const RICH: PlainRuleSet = {
  version: 3,
  rules: [
    {
      query_type: ["A", "HTTPS", 99],
      network: ["tcp"],
      domain: ["exact.test"],
      domain_suffix: ["suffix.test", ".sub.test"],
    },
    { domain_keyword: ["kw"], domain_regex: ["^re\\d+\\.test$"], invert: true },
    { source_ip_cidr: ["10.0.0.0/8", "192.168.1.1"], ip_cidr: ["1.1.0.0/24", "1.1.1.0/24", "2001:db8::/32"] },
    { source_port: [1, 65535], source_port_range: ["1000:2000"], port: [443], port_range: [":100", "8000:"] },
    {
      process_name: ["curl"],
      process_path: ["/usr/bin/curl"],
      process_path_regex: ["^/usr/"],
      package_name: ["a.b"],
    },
    {
      network_type: ["wifi", "other"],
      network_is_expensive: true,
      network_is_constrained: true,
      wifi_ssid: ["s"],
      wifi_bssid: ["b"],
    },
    {
      type: "logical",
      mode: "or",
      rules: [{ domain: ["l1.test"] }, {
        type: "logical",
        mode: "and",
        rules: [{ port: [53] }, { network: ["udp"] }],
        invert: true,
      }],
    },
  ],
};

Deno.test("writeSrs/readSrs round-trip every headless item, logical nesting included", () => {
  const bytes = writeSrs(RICH);
  assertEquals(Array.from(bytes.subarray(0, 4)), [0x53, 0x52, 0x53, 3]);
  const back = readSrs(bytes);
  assertEquals(back.version, 3);
  const expected = structuredClone(RICH);
  // The binary form stores query types as numbers; known ones come back by name.
  (expected.rules[0] as { query_type: unknown }).query_type = ["A", "HTTPS", 99];
  // IP sets come back merged into minimal prefixes.
  (expected.rules[2] as { ip_cidr: string[] }).ip_cidr = ["1.1.0.0/23", "2001:db8::/32"];
  (expected.rules[2] as { source_ip_cidr: string[] }).source_ip_cidr = ["10.0.0.0/8", "192.168.1.1/32"];
  (expected.rules[0] as { domain_suffix: string[] }).domain_suffix = [".sub.test", "suffix.test"];
  assertEquals(back.rules, expected.rules);
  // Re-encoding the decoded set gives identical bytes.
  assertEquals(writeSrs(back), bytes);
});

Deno.test("srs known answer: one domain rule decompresses to the documented layout", () => {
  const bytes = writeSrs({ version: 2, rules: [{ domain: ["a.com"] }] });
  const body = new Uint8Array(inflateSync(bytes.subarray(4)));
  const u64 = (n: number) => [0, 0, 0, 0, 0, 0, n >> 8, n & 0xff];
  // count 1; default rule; item 2 (domain); reserved 0; leaves [bit 5]; bitmap 0b110_1010_1010; labels "moc.a"; final; invert 0
  assertEquals(Array.from(body), [
    1,
    0,
    2,
    0,
    1,
    ...u64(32),
    1,
    ...u64(0x6aa),
    5,
    ..."moc.a".split("").map((c) => c.charCodeAt(0)),
    0xff,
    0,
  ]);
});

Deno.test("srs known answer: a v2 payload in the exact+prefix layout decodes to one suffix", () => {
  // domain "x.ai" and domain_suffix ".x.ai" as geosite generators write them: keys "ia.x" and
  // "ia.x.\r"; leaves at nodes 4 and 6, bitmap 0b1_1010_1010_1010.
  const u64 = (n: number) => [0, 0, 0, 0, 0, 0, n >> 8, n & 0xff];
  const payload = new Uint8Array([
    1,
    0,
    2,
    0,
    1,
    ...u64(0x50),
    1,
    ...u64(0x1aaa),
    6,
    ..."ia.x.\r".split("").map((c) => c.charCodeAt(0)),
    0xff,
    0,
  ]);
  const file = new Uint8Array([0x53, 0x52, 0x53, 2, ...deflateSync(payload)]);
  const set = readSrs(file);
  assertEquals(set.rules, [{ domain_suffix: ["x.ai"] }]);
  const rs = new CompiledRuleSet(set);
  assert(rs.match(ctx("x.ai")) && rs.match(ctx("api.x.ai")) && !rs.match(ctx("box.ai")));
  // Encoding in version 1 reproduces the same layout byte for byte.
  assertEquals(new Uint8Array(inflateSync(writeSrs(set, 1).subarray(4))), payload);
});

Deno.test("domain set: sing's matcher vectors, v1 legacy and v2 layouts dump back to the input", () => {
  const domains = ["example.com", "example.org"];
  const suffixes = [".com.cn", ".org.cn", "sagernet.org"];
  for (const legacy of [false, true]) {
    const set = buildDomainSet(domains, suffixes, legacy);
    assertEquals(dumpDomainSet(set), { domain: domains, domainSuffix: suffixes });
    const rs = new CompiledRuleSet(
      readSrs(writeSrs({ version: legacy ? 1 : 2, rules: [{ domain: domains, domain_suffix: suffixes }] })),
    );
    const yes = [
      "example.com",
      "example.org",
      "example.com.cn",
      "example.org.cn",
      "sagernet.org",
      "sing-box.sagernet.org",
    ];
    const no = ["example.cn", "com.cn", "org.cn"];
    for (const d of yes) assert(rs.match(ctx(d)), d);
    for (const d of no) assert(!rs.match(ctx(d)), d);
  }
  // Non-ASCII names survive the byte-wise reversal.
  assertEquals(dumpDomainSet(buildDomainSet(["bücher.de"], ["例子.测试"], false)), {
    domain: ["bücher.de"],
    domainSuffix: ["例子.测试"],
  });
});

Deno.test("succinct set keys round-trip for random key sets", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ unit: fc.constantFrom("a", "b", ".", "\n", "\r", "z"), maxLength: 8 })),
      (keys) => {
        const sorted = [...keys].sort();
        assertEquals(
          succinctKeys(buildSuccinctSet(sorted)),
          sorted.filter((k, i) => i === 0 || k !== sorted[i - 1]).sort(),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("IP set merges, prints minimal prefixes and answers containment", () => {
  const set = buildIpSet(["10.0.0.0/9", "10.128.0.0/9", "10.0.0.5", "::1", "fd00::/8", "1.2.3.4/31"]);
  assertEquals(rangesToPrefixes(set), ["1.2.3.4/31", "10.0.0.0/8", "::1/128", "fd00::/8"]);
  assert(ipSetContains(set, "10.200.1.1"));
  assert(ipSetContains(set, "::ffff:10.0.0.1"));
  assert(!ipSetContains(set, "11.0.0.0"));
  assert(ipSetContains(set, "fd12::1"));
  assert(!ipSetContains(set, "fe80::1"));
  assertEquals(rangesToPrefixes(buildIpSet(["1.0.0.1", "1.0.0.2"])), ["1.0.0.1/32", "1.0.0.2/32"]);
});

Deno.test("CompiledRuleSet matching: groups, invert, ports, source match, platform items never match", () => {
  const rs = new CompiledRuleSet(RICH);
  assertEquals(rs.matchIndex(ctx("exact.test", {}, 1)), 0);
  assertEquals(rs.matchIndex(ctx("x.suffix.test", {}, 65)), 0);
  assertEquals(
    rs.matchIndex(ctx("sub.test", {}, 1)),
    1,
    "'.sub.test' is subdomains only; rule 1 (inverted) takes it",
  );
  assertEquals(rs.matchIndex(ctx("a.sub.test", { network: "udp" }, 1)), 1);
  assertEquals(
    rs.matchIndex(ctx("kw.test")),
    6,
    "keyword hit inverts rule 1; rule 3 needs source port; rule 6's inverted AND holds",
  );
  const ipRule = new CompiledRuleSet({ version: 3, rules: [RICH.rules[2]] });
  assert(ipRule.match(ctx("1.1.1.9")));
  assert(!ipRule.match(ctx("1.1.1.9", { source: { host: "172.16.0.1", port: 1 } })));
  assert(!ipRule.match(ctx("9.9.9.9")));
  assert(ipRule.hasDestinationIpCidr);
  const srcMatch = new CompiledRuleSet({ version: 3, rules: [{ ip_cidr: ["10.0.0.0/8"] }] });
  assert(
    srcMatch.match(ctx("example.test"), { matchSource: true }),
    "rule_set_ip_cidr_match_source tests the source",
  );
  assert(!srcMatch.match(ctx("example.test")));
  assert(srcMatch.match(ctx("example.test"), { acceptEmpty: true }), "accept_empty: no address at all");
  assert(
    srcMatch.match(ctx("example.test"), { ignoreDestinationIpCidr: true }),
    "pre-match leaves ip_cidr out",
  );
  const ports = new CompiledRuleSet({ version: 3, rules: [RICH.rules[3]] });
  assert(
    ports.match(
      ctx("a.test", { source: { host: "1.1.1.1", port: 1500 }, destination: { host: "", port: 50 } }),
    ),
  );
  assert(
    !ports.match(
      ctx("a.test", { source: { host: "1.1.1.1", port: 3000 }, destination: { host: "", port: 50 } }),
    ),
  );
  assert(!new CompiledRuleSet({ version: 3, rules: [RICH.rules[4]] }).match(ctx("a.test")));
  const logical = new CompiledRuleSet({ version: 3, rules: [RICH.rules[6]] });
  assert(logical.match(ctx("l1.test")));
  assert(logical.match(ctx("other.test", { network: "tcp", destination: { host: "", port: 53 } })));
  assert(!logical.match(ctx("other.test", { network: "udp", destination: { host: "", port: 53 } })));
});

Deno.test("parseRuleSetSource validates and format prints canonical JSON", () => {
  const set = parseRuleSetSource(
    '{"version":2,"rules":[{"domain":"a.test","invert":false},{"type":"logical","mode":"and","rules":[{"port":80}]}]}',
  );
  assertEquals(
    formatRuleSetSource(set),
    JSON.stringify(
      {
        version: 2,
        rules: [{ domain: ["a.test"] }, { type: "logical", mode: "and", rules: [{ port: [80] }] }],
      },
      null,
      2,
    ),
  );
  assertThrows(() => parseRuleSetSource('{"version":9,"rules":[]}'), ConfigError, "version");
  assertThrows(() => parseRuleSetSource('{"version":1,"rules":[{"inbound":"x"}]}'), ConfigError, "rules[0]");
  assertThrows(
    () => writeSrs({ version: 2, rules: [{ network_type: ["wifi"] }] }),
    RuleSetFormatError,
    "version 3",
  );
});

Deno.test("readSrs rejects bad magic, versions, compression and truncated or fuzzed bodies without crashing", () => {
  assertThrows(() => readSrs(new Uint8Array([1, 2, 3, 4])), RuleSetFormatError, "magic");
  assertThrows(() => readSrs(new Uint8Array([0x53, 0x52, 0x53, 9])), RuleSetFormatError, "version");
  assertThrows(
    () => readSrs(new Uint8Array([0x53, 0x52, 0x53, 1, 1, 2, 3])),
    RuleSetFormatError,
    "compression",
  );
  const good = writeSrs(RICH);
  fc.assert(
    fc.property(fc.integer({ min: 4, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const b = good.slice();
      b[i] ^= x;
      try {
        readSrs(b);
      } catch (e) {
        assert(e instanceof RuleSetFormatError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("AdGuard: sing's matcher vectors and conversion of filter syntax", () => {
  const lines = [
    "||example.org^",
    "|example.com^",
    "example.net^",
    "||example.edu",
    "||example.edu.tw^",
    "|example.gov",
    "example.arpa",
  ];
  const yes = [
    "example.org",
    "www.example.org",
    "example.com",
    "example.net",
    "isexample.net",
    "www.example.net",
    "example.edu",
    "example.edu.cn",
    "example.edu.tw",
    "www.example.edu",
    "www.example.edu.cn",
    "example.gov",
    "example.gov.cn",
    "example.arpa",
    "www.example.arpa",
    "isexample.arpa",
    "example.arpa.cn",
    "www.example.arpa.cn",
    "isexample.arpa.cn",
  ];
  const no = [
    "example.org.cn",
    "notexample.org",
    "example.com.cn",
    "www.example.com.cn",
    "example.net.cn",
    "notexample.edu",
    "notexample.edu.cn",
    "www.example.gov",
    "notexample.gov",
  ];
  const regs = lines.map(adguardRegex);
  for (const d of yes) assert(regs.some((r) => r.test(d)), d);
  for (const d of no) assert(!regs.some((r) => r.test(d)), d);
  // The binary AdGuard item dumps back to the same lines.
  const back = readSrs(writeSrs({ version: 2, rules: [{ adguard_domain: lines }] }));
  assertEquals([...(back.rules[0] as { adguard_domain: string[] }).adguard_domain].sort(), [...lines].sort());

  const filter = [
    "! comment",
    "# comment",
    "||ads.example^",
    "@@||good.ads.example^",
    "||tracker.example^$important",
    "0.0.0.0 hosts.example",
    "127.0.0.1 localhost.example",
    "/banner\\d+\\.example/",
    "||path.example/x",
    "||ip.example^$dnstype=AAAA",
    "example.com##.ad",
    "plain.example",
  ].join("\n");
  const converted = convertAdGuard(filter);
  assertEquals(converted.ignored, 3);
  const rs = new CompiledRuleSet(readSrs(writeSrs({ version: 2, rules: converted.rules })));
  for (
    const d of [
      "ads.example",
      "x.ads.example",
      "tracker.example",
      "hosts.example",
      "banner12.example",
      "plain.example",
    ]
  ) {
    assert(rs.match(ctx(d)), d);
  }
  for (const d of ["good.ads.example", "localhost.example", "other.example", "path.example"]) {
    assert(!rs.match(ctx(d)), d);
  }
  assertEquals(convertAdGuard("a.example\nb.example\n").rules, [{ domain: ["a.example", "b.example"] }]);
  assertThrows(() => convertAdGuard("! only comments\n"), SyntaxError);
});
