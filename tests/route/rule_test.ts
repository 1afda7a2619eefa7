import { assert, assertEquals } from "../_util/assert.ts";
import type { Metadata, Outbound } from "../../src/adapter/types.ts";
import { routeRuleSchema } from "../../src/config/route.ts";
import { compileRule } from "../../src/route/rule/compile.ts";
import { matchContext } from "../../src/route/rule/item.ts";
import { Router } from "../../src/route/router.ts";
import { meta } from "./_meta.ts";

function rule(json: Record<string, unknown>) {
  return compileRule(routeRuleSchema.parse({ ...json, outbound: "x" }), "route.rules[0]", {
    hasOutbound: () => true,
  });
}

// [rule json, metadata, expected]
const TABLE: [Record<string, unknown>, Metadata, boolean][] = [
  [{ inbound: ["in"] }, meta({}), true],
  [{ inbound: ["other"] }, meta({}), false],
  [{ network: ["udp"] }, meta({}), false],
  [{ network: ["tcp", "udp"] }, meta({ network: "udp" }), true],
  [{ auth_user: ["alice"] }, meta({ user: "alice" }), true],
  [{ auth_user: ["alice"] }, meta({}), false],
  [{ domain: ["example.com"] }, meta({}), true],
  [{ domain: ["example.com"] }, meta({ dest: "www.example.com:443" }), false],
  [{ domain: ["EXAMPLE.com"] }, meta({ dest: "Example.COM.:443" }), true],
  [{ domain_suffix: ["example.com"] }, meta({ dest: "a.b.example.com:1" }), true],
  [{ domain_suffix: ["example.com"] }, meta({ dest: "example.com:1" }), true],
  [{ domain_suffix: ["example.com"] }, meta({ dest: "notexample.com:1" }), false],
  [{ domain_suffix: [".example.com"] }, meta({ dest: "example.com:1" }), false],
  [{ domain_suffix: [".example.com"] }, meta({ dest: "x.example.com:1" }), true],
  [{ domain_keyword: ["ampl"] }, meta({}), true],
  [{ domain_regex: ["^ex.*\\.com$"] }, meta({}), true],
  [{ domain_regex: ["^www\\."] }, meta({}), false],
  [{ domain: ["sniffed.test"] }, meta({ dest: "10.0.0.1:443", domain: "sniffed.test" }), true],
  [{ ip_cidr: ["10.0.0.0/8"] }, meta({ dest: "10.2.3.4:80" }), true],
  [{ ip_cidr: ["10.0.0.0/8"] }, meta({ dest: "11.2.3.4:80" }), false],
  [{ ip_cidr: ["10.0.0.0/8"] }, meta({ dest: "example.com:80" }), false],
  [{ ip_cidr: ["10.0.0.0/8"] }, meta({ dest: "example.com:80", destinationAddresses: ["10.9.9.9"] }), true],
  [{ ip_cidr: ["2001:db8::/32"] }, meta({ dest: "2001:db8::5:80" }), true],
  [{ ip_cidr: ["10.0.0.1"] }, meta({ dest: "::ffff:10.0.0.1:80" }), true],
  [{ source_ip_cidr: ["127.0.0.0/8"] }, meta({}), true],
  [{ ip_is_private: true }, meta({ dest: "192.168.1.1:80" }), true],
  [{ ip_is_private: true }, meta({ dest: "127.0.0.1:80" }), true],
  [{ ip_is_private: true }, meta({ dest: "fd00::1:80" }), true],
  [{ ip_is_private: true }, meta({ dest: "8.8.8.8:80" }), false],
  [{ source_ip_is_private: true }, meta({ src: "203.0.113.9:5" }), false],
  [{ port: [443, 8443] }, meta({}), true],
  [{ port: [80] }, meta({}), false],
  [{ port_range: ["400:500"] }, meta({}), true],
  [{ port_range: [":100"] }, meta({}), false],
  [{ port_range: ["1000:"] }, meta({ dest: "x.test:65535" }), true],
  [{ source_port: [40000] }, meta({}), true],
  [{ source_port_range: ["1:1024"] }, meta({}), false],
  [{ ip_version: 6 }, meta({ dest: "::1:80" }), true],
  [{ ip_version: 4 }, meta({ dest: "::1:80" }), false],
  [{ protocol: ["tls"] }, meta({ protocol: "tls" }), true],
  [{ protocol: ["tls"] }, meta({}), false],
  [{ client: ["chromium"] }, meta({ client: "chromium" }), true],
  // group algebra: OR within the destination-address group, AND across groups
  [{ domain: ["nomatch.test"], ip_cidr: ["10.0.0.0/8"] }, meta({ dest: "10.0.0.1:443" }), true],
  [{ domain: ["example.com"], port: [80] }, meta({}), false],
  [{ domain: ["example.com"], port: [80], port_range: ["443:443"] }, meta({}), true],
  [{ network: ["tcp"], inbound: ["other"] }, meta({}), false],
  [{ port: [443], invert: true }, meta({}), false],
  [{ port: [80], invert: true }, meta({}), true],
  // logical rules nest
  [{ type: "logical", mode: "and", rules: [{ port: [443] }, { domain: ["example.com"] }] }, meta({}), true],
  [{ type: "logical", mode: "and", rules: [{ port: [443] }, { domain: ["other.com"] }] }, meta({}), false],
  [{ type: "logical", mode: "or", rules: [{ port: [1] }, { domain: ["example.com"] }] }, meta({}), true],
  [
    { type: "logical", mode: "or", rules: [{ port: [1] }, { domain: ["x.com"] }], invert: true },
    meta({}),
    true,
  ],
  [
    {
      type: "logical",
      mode: "and",
      rules: [{ type: "logical", mode: "or", rules: [{ port: [1] }, { port: [443] }] }, {
        network: ["tcp"],
        invert: true,
      }],
    },
    meta({}),
    false,
  ],
];

Deno.test("rule items and the matching algebra match as sing-box does (table)", () => {
  TABLE.forEach(([json, m, expected], i) => {
    const r = rule(json);
    assertEquals(
      r.matcher.match(matchContext(m)),
      expected,
      `case ${i}: ${JSON.stringify(json)} vs ${JSON.stringify(m)}`,
    );
  });
});

Deno.test("rule toString() prints the config syntax", () => {
  assertEquals(String(rule({ port: [80, 443] }).matcher), "port=[80 443]");
  assertEquals(String(rule({ domain_suffix: ["a.com"], invert: true }).matcher), "!(domain_suffix=a.com)");
});

const fake = (tag: string): Outbound => ({
  type: "direct",
  tag,
  network: ["tcp", "udp"],
  dial: () => Promise.reject(new Error("unused")),
  listenPacket: () => Promise.reject(new Error("unused")),
});

function router(rules: Record<string, unknown>[]) {
  const outbounds = new Map([["direct", fake("direct")], ["proxy", fake("proxy")]]);
  const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  return new Router({
    rules: rules.map((r, i) =>
      compileRule(routeRuleSchema.parse(r), `route.rules[${i}]`, { hasOutbound: (t) => outbounds.has(t) })
    ),
    outbounds,
    final: "direct",
    logger,
  });
}

Deno.test("Router.decide() takes the first final match, applies route-options and falls back to final", () => {
  const r = router([
    { port: [8080], action: "route-options", override_port: 80 },
    { domain_suffix: ["proxied.test"], outbound: "proxy" },
    { domain: ["bad.test"], action: "reject" },
  ]);
  const a = r.decide(meta({ dest: "www.proxied.test:8080" }));
  assert(a.kind === "route");
  assertEquals([a.outbound.tag, a.options.override_port], ["proxy", 80]);
  assertEquals(r.decide(meta({ dest: "bad.test:1" })).kind, "reject");
  const f = r.decide(meta({ dest: "other.test:1" }));
  assert(f.kind === "route" && f.outbound.tag === "direct" && f.rule === "final");
});

Deno.test("Router.decide() switches reject to drop after 50 triggers in 30 s unless no_drop", () => {
  const r = router([{ port: [1], action: "reject" }, { port: [2], action: "reject", no_drop: true }]);
  const methods = (port: number, start: number) =>
    Array.from({ length: 51 }, (_, i) => r.decide(meta({ dest: `x.test:${port}` }), start + i)).map((d) =>
      d.kind === "reject" ? d.method : "route"
    );
  const m1 = methods(1, 0);
  assertEquals([m1[49], m1[50]], ["default", "drop"]);
  assertEquals(methods(2, 0)[50], "default");
  // after the window the counter resets
  assertEquals(
    r.decide(meta({ dest: "x.test:1" }), 100_000).kind === "reject" &&
      (r.decide(meta({ dest: "x.test:1" }), 100_001) as { method: string }).method,
    "default",
  );
});
