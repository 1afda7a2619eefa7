/**
 * Route rule items added for issue #5: `rule_set` (group merging, ip_cidr match source, inside
 * logical rules with invert), `clash_mode`, the process items and the platform-only keys.
 */
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import type { Metadata, ProcessInfo } from "../../src/adapter/types.ts";
import { ConfigError } from "../../src/common/errors.ts";
import type { Logger } from "../../src/common/log.ts";
import { routeRuleSchema } from "../../src/config/route.ts";
import { ClashModeState } from "../../src/route/clash_mode.ts";
import { compileRule } from "../../src/route/rule/compile.ts";
import { matchContext } from "../../src/route/rule/item.ts";
import { CompiledRuleSet } from "../../src/route/rule_set/match.ts";
import type { HeadlessRule } from "../../src/route/rule_set/source.ts";
import { meta } from "./_meta.ts";

const CURL: ProcessInfo = { pid: 42, path: "/usr/bin/curl", user: "alice", userId: 1000 };

const set = (...rules: HeadlessRule[]) => new CompiledRuleSet({ version: 3, rules });
const SETS: Record<string, CompiledRuleSet> = {
  ads: set({ domain_suffix: ["ads.test"] }, { domain: ["tracker.test"] }),
  lan: set({ ip_cidr: ["10.0.0.0/8"] }),
  https: set({ port: [443] }),
  "b-on-443": set({ domain: ["b.test"], port: [443] }),
  // sibling rules must not see each other's partial results
  "a80-b443": set({ domain: ["a.test"], port: [80] }, { domain: ["b.test"], port: [443] }),
  curl: set({ process_name: ["curl"] }),
};

const mode = new ClashModeState("Rule");
function rule(json: Record<string, unknown>, logger?: Logger) {
  return compileRule(routeRuleSchema.parse({ ...json, outbound: "x" }), "route.rules[0]", {
    hasOutbound: () => true,
    ruleSet: (tag) => SETS[tag],
    clashMode: () => mode.mode,
    logger,
  });
}

// [rule json, metadata, expected]
const TABLE: [Record<string, unknown>, Metadata, boolean][] = [
  // rule_set: any set, any rule of it
  [{ rule_set: "ads" }, meta({ dest: "x.ads.test:443" }), true],
  [{ rule_set: "ads" }, meta({ dest: "tracker.test:80" }), true],
  [{ rule_set: "ads" }, meta({ dest: "ads.test.example:80" }), false],
  [{ rule_set: ["https", "ads"] }, meta({ dest: "other.test:80" }), false],
  [{ rule_set: ["https", "ads"] }, meta({ dest: "other.test:443" }), true],
  // set items join the rule's groups: the set's domain is an alternative to the rule's domain ...
  [{ domain: ["a.test"], rule_set: "ads" }, meta({ dest: "x.ads.test:1" }), true],
  [{ domain: ["a.test"], rule_set: "ads" }, meta({ dest: "a.test:1" }), true],
  [{ domain: ["a.test"], rule_set: "ads" }, meta({ dest: "c.test:1" }), false],
  // ... the rule's domain satisfies the set rule's address group, its port still counts
  [{ domain: ["a.test"], rule_set: "b-on-443" }, meta({ dest: "a.test:443" }), true],
  [{ domain: ["a.test"], rule_set: "b-on-443" }, meta({ dest: "a.test:80" }), false],
  // a set rule with only a port does not stand in for the rule's failed domain group
  [{ domain: ["a.test"], rule_set: "https" }, meta({ dest: "c.test:443" }), false],
  [{ domain: ["a.test"], rule_set: "https" }, meta({ dest: "a.test:443" }), true],
  // each set rule starts from the rule's own groups only
  [{ rule_set: "a80-b443" }, meta({ dest: "a.test:443" }), false],
  [{ rule_set: "a80-b443" }, meta({ dest: "b.test:443" }), true],
  [{ rule_set: "a80-b443", port: [80] }, meta({ dest: "b.test:80" }), true],
  // other items still AND
  [{ rule_set: "ads", network: ["udp"] }, meta({ dest: "x.ads.test:1" }), false],
  [{ rule_set: "ads", invert: true }, meta({ dest: "x.ads.test:1" }), false],
  [{ rule_set: "ads", invert: true }, meta({ dest: "c.test:1" }), true],
  // ip_cidr of a set: destination by default, source with rule_set_ip_cidr_match_source
  [{ rule_set: "lan" }, meta({ dest: "10.9.9.9:80", src: "192.0.2.1:5" }), true],
  [{ rule_set: "lan" }, meta({ dest: "192.0.2.9:80", src: "10.0.0.1:5" }), false],
  [{ rule_set: "lan" }, meta({ dest: "lan.test:80", destinationAddresses: ["10.1.1.1"] }), true],
  [
    { rule_set: "lan", rule_set_ip_cidr_match_source: true },
    meta({ dest: "192.0.2.9:80", src: "10.1.2.3:5" }),
    true,
  ],
  [{ rule_set: "lan", rule_set_ip_cidr_match_source: true }, meta({ src: "192.0.2.1:5" }), false],
  [
    { rule_set: "lan", rule_set_ipcidr_match_source: true },
    meta({ dest: "192.0.2.9:80", src: "10.1.2.3:5" }),
    true,
  ],
  // rule_set inside logical rules, with invert at both levels
  [
    { type: "logical", mode: "and", rules: [{ rule_set: "ads" }, { port: [443] }] },
    meta({ dest: "ads.test:443" }),
    true,
  ],
  [
    { type: "logical", mode: "and", rules: [{ rule_set: "ads" }, { port: [443] }] },
    meta({ dest: "ads.test:80" }),
    false,
  ],
  [
    { type: "logical", mode: "and", rules: [{ rule_set: "ads", invert: true }, { port: [443] }] },
    meta({ dest: "c.test:443" }),
    true,
  ],
  [
    { type: "logical", mode: "and", rules: [{ rule_set: "ads", invert: true }, { port: [443] }] },
    meta({ dest: "ads.test:443" }),
    false,
  ],
  [
    { type: "logical", mode: "or", rules: [{ rule_set: "ads" }, { rule_set: "https" }], invert: true },
    meta({ dest: "c.test:80" }),
    true,
  ],
  [
    { type: "logical", mode: "or", rules: [{ rule_set: "ads" }, { rule_set: "https" }], invert: true },
    meta({ dest: "c.test:443" }),
    false,
  ],
  [
    {
      type: "logical",
      mode: "and",
      rules: [{ type: "logical", mode: "or", rules: [{ rule_set: "lan" }, { rule_set: "ads" }] }, {
        network: ["tcp"],
      }],
      invert: true,
    },
    meta({ dest: "10.0.0.1:1" }),
    false,
  ],
  // clash_mode compares the current mode ignoring case
  [{ clash_mode: "rule" }, meta(), true],
  [{ clash_mode: "Global" }, meta(), false],
  // process items
  [{ process_name: ["curl", "wget"] }, meta({ process: CURL }), true],
  [{ process_name: ["bin/curl"] }, meta({ process: CURL }), false],
  [{ process_name: ["curl"] }, meta(), false],
  [{ process_path: ["/usr/bin/curl"] }, meta({ process: CURL }), true],
  [{ process_path: ["/bin/curl"] }, meta({ process: CURL }), false],
  [{ process_path_regex: ["^/usr/(s?bin)/cu"] }, meta({ process: CURL }), true],
  [{ process_path_regex: ["wget$"] }, meta({ process: CURL }), false],
  [{ process_path_regex: [".*"] }, meta({ process: { ...CURL, path: "" } }), false],
  [{ user: ["alice"] }, meta({ process: CURL }), true],
  [{ user: ["bob"] }, meta({ process: CURL }), false],
  [{ user: ["alice"] }, meta({ process: { ...CURL, user: undefined } }), false],
  [{ user_id: [0, 1000] }, meta({ process: CURL }), true],
  [{ user_id: [0] }, meta({ process: CURL }), false],
  [{ user_id: [1000] }, meta(), false],
  [{ rule_set: "curl" }, meta({ process: CURL }), true],
  [{ rule_set: "curl" }, meta({ process: { ...CURL, path: "/usr/bin/wget" } }), false],
  // platform-only keys never match
  [{ package_name: ["com.example"] }, meta({ process: CURL }), false],
  [{ wifi_ssid: ["home"] }, meta(), false],
  [{ network_type: ["wifi"], invert: true }, meta(), true],
];

Deno.test("route rule items: rule_set, clash_mode, process and platform keys match as sing-box does (table)", () => {
  TABLE.forEach(([json, m, expected], i) => {
    assertEquals(
      rule(json).matcher.match(matchContext(m)),
      expected,
      `case ${i}: ${JSON.stringify(json)} vs ${JSON.stringify(m)}`,
    );
  });
});

Deno.test("clash_mode follows mode changes and never matches without a Clash API", () => {
  const r = rule({ clash_mode: "Direct" });
  assert(!r.matcher.match(matchContext(meta())));
  mode.set("direct");
  assert(r.matcher.match(matchContext(meta())));
  mode.set("Rule");
  const none = compileRule(routeRuleSchema.parse({ clash_mode: "Rule", outbound: "x" }), "r", {
    hasOutbound: () => true,
    clashMode: () => new ClashModeState(undefined).mode,
  });
  assert(!none.matcher.match(matchContext(meta())));
});

Deno.test("platform-only keys are warned about with their JSON path", () => {
  const warnings: string[] = [];
  const logger: Logger = {
    trace() {},
    debug() {},
    info() {},
    warn: (m) => warnings.push(m),
    error() {},
  };
  rule({
    type: "logical",
    mode: "or",
    rules: [{ port: 1 }, { wifi_bssid: ["aa"], network_is_expensive: true, network_is_constrained: false }],
  }, logger);
  assertEquals(warnings.map((w) => w.split(":")[0]), [
    "route.rules[0].rules[1].network_is_expensive",
    "route.rules[0].rules[1].wifi_bssid",
  ]);
});

Deno.test("unknown rule-set tags and bad process regexes are config errors naming the path", () => {
  assertThrows(
    () => rule({ rule_set: ["ads", "nope"] }),
    ConfigError,
    'route.rules[0].rule_set[1]: rule-set "nope"',
  );
  assertThrows(
    () => rule({ process_path_regex: ["ok", "("] }),
    ConfigError,
    "route.rules[0].process_path_regex[1]: invalid regular expression",
  );
});

Deno.test("rule toString() prints rule_set, clash_mode and process items in config syntax", () => {
  assertEquals(String(rule({ rule_set: ["ads", "lan"], port: 443 }).matcher), "port=443 rule_set=[ads lan]");
  assertEquals(
    String(rule({ clash_mode: "Rule", process_name: "curl", user_id: [0, 1] }).matcher),
    "process_name=curl user_id=[0 1] clash_mode=Rule",
  );
});
