import { assertEquals, assertThrows } from "../_util/assert.ts";
import { ConfigError } from "../../src/common/errors.ts";
import { parseConfig } from "../../src/config/config.ts";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";
import { mergeJson } from "../../src/config/merge.ts";
import { Box } from "../../src/box.ts";
import { registries } from "../../src/include/registry.ts";

const base = () => ({
  inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: 2080 }],
  outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
});

function errorOf(json: unknown): string {
  return assertThrows(() => Box.create(parseConfig(json, registries()), registries()), ConfigError).message;
}

Deno.test("parseConfig() accepts a sing-box 1.12 config with Listable fields and durations", () => {
  const o = parseConfig({
    log: { level: "debug", timestamp: true },
    inbounds: {
      type: "socks",
      tag: "s",
      listen: "127.0.0.1",
      listen_port: 1080,
      users: { username: "u", password: "p" },
      udp_timeout: "1m",
    },
    outbounds: [{ type: "direct", tag: "d", connect_timeout: "1.5s" }],
    route: { rules: { domain_suffix: "example.com", port: 443, outbound: "d" }, final: "d" },
  }, registries());
  assertEquals(o.inbounds[0]!.options, {
    type: "socks",
    tag: "s",
    listen: "127.0.0.1",
    listen_port: 1080,
    users: [{ username: "u", password: "p" }],
    udp_timeout: 60_000,
  });
  assertEquals((o.outbounds[0]!.options as { connect_timeout: number }).connect_timeout, 1500);
  assertEquals(o.route.rules[0], { domain_suffix: ["example.com"], port: [443], outbound: "d" });
});

Deno.test("config errors name the JSON path of the offending field", () => {
  const cases: [unknown, string][] = [
    [
      { ...base(), inbounds: [{ type: "mixed", listen_port: 70000 }] },
      "inbounds[0].listen_port: expected integer 0..65535",
    ],
    [
      { ...base(), inbounds: [{ type: "mixed", listen_port: "80" }] },
      "inbounds[0].listen_port: expected integer 0..65535",
    ],
    [
      { ...base(), inbounds: [{ type: "mixed", listen_prot: 80 }] },
      'inbounds[0]: unknown field "listen_prot"',
    ],
    [{ ...base(), inbounds: [{ type: "nope" }] }, 'inbounds[0].type: unknown inbound type "nope"'],
    [{ ...base(), inbounds: [{ tag: "x" }] }, "inbounds[0].type: expected string"],
    [
      { ...base(), outbounds: [{ type: "socks", tag: "s", server: "h" }] },
      "outbounds[0].server_port: expected integer 0..65535",
    ],
    [
      { ...base(), outbounds: [{ type: "direct", connect_timeout: "5 seconds" }] },
      "outbounds[0].connect_timeout: Cannot parse duration",
    ],
    [
      { ...base(), route: { rules: [{ port: 80, outbound: "nowhere" }] } },
      'route.rules[0].outbound: outbound "nowhere" not found',
    ],
    [
      { ...base(), route: { rules: [{ port_range: ["1:2", "x"], outbound: "direct" }] } },
      "route.rules[0].port_range[1]: expected port range",
    ],
    [
      { ...base(), route: { rules: [{ port_range: "x", outbound: "direct" }] } },
      "route.rules[0].port_range: expected port range",
    ],
    [
      { ...base(), route: { rules: [{ ip_cidr: ["10.0.0.0/99"], outbound: "direct" }] } },
      'route.rules[0].ip_cidr[0]: invalid CIDR prefix "10.0.0.0/99"',
    ],
    [
      { ...base(), route: { rules: [{ domain_regex: ["("], outbound: "direct" }] } },
      "route.rules[0].domain_regex[0]: invalid regular expression",
    ],
    [
      { ...base(), route: { rules: [{ geosite: ["cn"], outbound: "direct" }] } },
      'route.rules[0].geosite: the geosite database was removed in sing-box 1.12: convert it to a rule-set and use "rule_set"',
    ],
    [
      { ...base(), route: { rules: [{ type: "logical", mode: "or", rules: [{ source_geoip: ["cn"] }] }] } },
      "route.rules[0].rules[0].source_geoip: the geoip database was removed",
    ],
    [
      { ...base(), dns: { rules: [{ geoip: ["cn"], server: "x" }] } },
      "dns.rules[0].geoip: the geoip database was removed",
    ],
    [
      { ...base(), route: { rules: [{ process_path_regex: ["("], outbound: "direct" }] } },
      "route.rules[0].process_path_regex[0]: invalid regular expression",
    ],
    [
      { ...base(), route: { rules: [{ rule_set: ["missing"], outbound: "direct" }] } },
      'route.rules[0].rule_set[0]: rule-set "missing" not found',
    ],
    [
      {
        ...base(),
        route: {
          rules: [{ type: "logical", mode: "and", rules: [{ rule_set: "s" }, { rule_set: "t" }] }],
          rule_set: [{ tag: "s", rules: [] }],
        },
      },
      'route.rules[0].rules[1].rule_set[0]: rule-set "t" not found',
    ],
    [
      { ...base(), route: { rule_set: [{ tag: "s", rules: [] }, { tag: "s", rules: [] }] } },
      'route.rule_set[1].tag: duplicate rule-set tag "s"',
    ],
    [
      {
        ...base(),
        route: {
          rule_set: [{ tag: "r", type: "remote", url: "https://x.test/r.srs", download_detour: "gone" }],
        },
      },
      'route.rule_set[0].download_detour: outbound "gone" not found',
    ],
    [
      { ...base(), route: { rules: [{ type: "logical", mode: "xor", rules: [{ port: 1 }] }] } },
      "route.rules[0]",
    ],
    [{ ...base(), route: { final: "gone" } }, 'route.final: outbound "gone" not found'],
    [{
      ...base(),
      outbounds: [{ type: "direct", tag: "a", detour: "b" }, { type: "direct", tag: "b", detour: "a" }],
    }, "detour loop"],
    [
      { ...base(), outbounds: [{ type: "direct", tag: "a" }, { type: "block", tag: "a" }] },
      'outbounds[1].tag: duplicate tag "a"',
    ],
    [{ ...base(), log: { level: "loud" } }, "log.level: expected one of"],
    [{ ...base(), unknown_section: {} }, 'unknown field "unknown_section"'],
    [[1, 2], "expected a JSON object at the top level"],
  ];
  for (const [json, expected] of cases) {
    const msg = errorOf(json);
    if (!msg.includes(expected)) {
      throw new Error(`expected error containing ${JSON.stringify(expected)}, got ${JSON.stringify(msg)}`);
    }
  }
});

Deno.test("parseDuration() reads Go durations; formatDuration() prints them back", () => {
  assertEquals(parseDuration("300ms"), 300);
  assertEquals(parseDuration("1m30s"), 90_000);
  assertEquals(parseDuration("1.5h"), 5_400_000);
  assertEquals(parseDuration("1d"), 86_400_000);
  assertEquals(parseDuration("0"), 0);
  assertThrows(() => parseDuration("5"), SyntaxError);
  assertThrows(() => parseDuration("s"), SyntaxError);
  assertThrows(() => parseDuration(""), SyntaxError);
  assertEquals(formatDuration(90_000), "1m30s");
  assertEquals(formatDuration(250), "250ms");
});

Deno.test("mergeJson() merges objects recursively, concatenates arrays, later scalars win", () => {
  assertEquals(
    mergeJson(
      { log: { level: "info", timestamp: true }, inbounds: [{ type: "mixed" }], route: { final: "a" } },
      { log: { level: "debug" }, inbounds: [{ type: "socks" }], route: { final: "b" } },
    ),
    {
      log: { level: "debug", timestamp: true },
      inbounds: [{ type: "mixed" }, { type: "socks" }],
      route: { final: "b" },
    },
  );
});

Deno.test("Box.create() adds a default direct outbound when none is configured", () => {
  const box = Box.create(
    parseConfig({ inbounds: [{ type: "mixed", listen_port: 0 }] }, registries()),
    registries(),
  );
  assertEquals([...box.outbounds.keys()], ["direct"]);
});
