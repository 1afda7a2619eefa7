/**
 * Pure parts of the Clash API: the Prometheus text (router and paniq figures), the mode list
 * order and switching rules, the `/dns/query` JSON of a response, the controller address parser.
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_util/assert.ts";
import { Box } from "../../src/box.ts";
import { ConfigError } from "../../src/common/errors.ts";
import { parseConfig } from "../../src/config/config.ts";
import { registries } from "../../src/include/registry.ts";
import { dnsResponseJson } from "../../src/api/dns_json.ts";
import { paniqMetrics, renderMetrics } from "../../src/api/metrics.ts";
import { clashModeList, ModeController } from "../../src/api/modes.ts";
import { parseController } from "../../src/api/options.ts";
import { FLAG } from "../../src/dns/message.ts";
import { PaniqMetrics } from "../../src/protocol/paniq/metrics.ts";
import { ClashModeState } from "../../src/route/clash_mode.ts";

Deno.test("renderMetrics() prints HELP, TYPE and labelled samples, escaping label values", () => {
  assertEquals(
    renderMetrics([
      { name: "x_total", help: "X.", type: "counter", samples: [{ value: 3 }] },
      { name: "empty", help: "E.", type: "gauge", samples: [] },
      { name: "y", help: "Y.", type: "gauge", samples: [{ labels: { tag: 'a"b\\c' }, value: 1.5 }] },
    ]),
    '# HELP x_total X.\n# TYPE x_total counter\nx_total 3\n# HELP y Y.\n# TYPE y gauge\ny{tag="a\\"b\\\\c"} 1.5\n',
  );
});

Deno.test("paniqMetrics() exposes the paniq.md §9 counters of paniq inbounds and outbounds", () => {
  const server = new PaniqMetrics("proxy");
  server.hs_ok = 3;
  server.envelope.replay_reject = 2;
  server.latency.add(20);
  server.latency.add(40);
  const client = new PaniqMetrics("socks");
  client.auth_fail = 1;
  client.active = 4;
  const text = renderMetrics(
    paniqMetrics(
      [{ type: "paniq", tag: "p-in", metrics: server } as never],
      [{ type: "paniq", tag: "p-out", metrics: client } as never, { type: "direct", tag: "d" } as never],
    ),
  );
  assertStringIncludes(text, 'paniq_hs_ok{kind="inbound",tag="p-in"} 3\n');
  assertStringIncludes(text, 'paniq_replay_reject{kind="inbound",tag="p-in"} 2\n');
  assertStringIncludes(text, "# TYPE paniq_active gauge\n");
  assertStringIncludes(text, 'paniq_active{kind="outbound",tag="p-out"} 4\n');
  assertStringIncludes(text, 'paniq_auth_fail{kind="outbound",tag="p-out"} 1\n');
  assert(!text.includes('paniq_auth_fail{kind="inbound"'), "auth_fail is a socks-side counter");
  assertStringIncludes(text, 'paniq_p99{kind="inbound",tag="p-in"} 0.04\n');
  for (const name of ["junk", "mac1_invalid", "pad_drop", "bytes_in", "reconnects", "udp_bytes_in"]) {
    assertStringIncludes(text, `# TYPE paniq_${name} counter\n`);
  }
  assertEquals(paniqMetrics([], []), [], "nothing without paniq");
});

Deno.test("clashModeList() sorts custom modes first, then Rule, Global, Direct; logical rules count", () => {
  assertEquals(
    clashModeList(
      [{ clash_mode: "Direct" }, {
        type: "logical",
        rules: [{ clash_mode: "Zeta" }, { clash_mode: "Rule" }],
      }],
      [{ clash_mode: "Alpha" }, { clash_mode: "Global" }, { clash_mode: "Direct" }, { domain: ["x"] }],
    ),
    ["Alpha", "Zeta", "Rule", "Global", "Direct"],
  );
  assertEquals(clashModeList(undefined, undefined), []);
});

Deno.test("ModeController lists the default mode, matches case-insensitively and ignores unknown modes", () => {
  const state = new ClashModeState("Rule");
  const events: string[] = [];
  const m = new ModeController(state, ["Global", "Direct"], {
    clearDnsCache: () => events.push("clear"),
    storeMode: (mode) => events.push(`store ${mode}`),
  });
  assertEquals(m.modes, ["Rule", "Global", "Direct"]);
  assertEquals(m.set("direct"), true);
  assertEquals([state.mode, events], ["Direct", ["clear", "store Direct"]]);
  assertEquals(m.set("Direct"), true);
  assertEquals(events.length, 2, "no change, no hooks");
  assertEquals(m.set("Proxy"), false);
  m.restore("GLOBAL");
  assertEquals([m.mode, events.length], ["Global", 2], "a restored mode is not stored again");
  m.restore("gone");
  assertEquals(m.mode, "Global");
  assertEquals(
    new ModeController(new ClashModeState(""), []).mode,
    "Rule",
    "an empty default_mode means Rule",
  );
});

Deno.test("dnsResponseJson() shapes a response like sing-box's /dns/query", () => {
  const json = dnsResponseJson({
    id: 1,
    type: "response",
    flags: FLAG.RD | FLAG.RA | 3,
    questions: [{ name: "example.test", type: "MX", class: "IN" }],
    answers: [
      { name: "example.test", type: "MX", ttl: 60, data: { preference: 10, exchange: "mx.example.test" } },
      { name: "example.test", type: "TXT", ttl: 60, data: [new TextEncoder().encode('v="1"')] },
      { name: "www.example.test", type: "CNAME", ttl: 5, data: "example.test" },
    ],
    authorities: [],
    additionals: [{ name: ".", type: "OPT", udpPayloadSize: 1232 }],
  });
  assertEquals(json, {
    Status: 3,
    Question: [{ Name: "example.test.", Qtype: 15, Qclass: 1 }],
    Server: "internal",
    TC: false,
    RD: true,
    RA: true,
    AD: false,
    CD: false,
    Answer: [
      { name: "example.test.", type: 15, TTL: 60, data: "10 mx.example.test." },
      { name: "example.test.", type: 16, TTL: 60, data: '"v=\\"1\\""' },
      { name: "www.example.test.", type: 5, TTL: 5, data: "example.test." },
    ],
  });
});

Deno.test("parseController() reads host:port, [v6]:port and :port", () => {
  assertEquals(parseController("127.0.0.1:9090"), { hostname: "127.0.0.1", port: 9090 });
  assertEquals(parseController("[::1]:80"), { hostname: "::1", port: 80 });
  assertEquals(parseController(":9090"), { hostname: "0.0.0.0", port: 9090 });
  for (const bad of ["9090", "host:99999", "::1:80", "host:"]) assertEquals(parseController(bad), null, bad);
});

Deno.test("experimental config errors name the JSON path", () => {
  const regs = registries();
  const build = (experimental: unknown) => Box.create(parseConfig({ experimental }, regs), regs);
  assertThrows(
    () => build({ clash_api: { external_controller: "9090" } }),
    ConfigError,
    'experimental.clash_api.external_controller: expected "host:port"',
  );
  assertThrows(
    () => build({ clash_api: { store_selected: true } }),
    ConfigError,
    "experimental.clash_api.store_selected: cache_file and related fields",
  );
  assertThrows(
    () => build({ cache_file: { enabled: true, pth: "x" } }),
    ConfigError,
    'experimental.cache_file: unknown field "pth"',
  );
  assertThrows(
    () => build({ cache_file: { enabled: true, rdrc_timeout: 5 } }),
    ConfigError,
    "experimental.cache_file.rdrc_timeout",
  );
  assertThrows(() => build({ clashapi: {} }), ConfigError, 'experimental: unknown field "clashapi"');
  // sing-box keys this build does not run are accepted (with a warning), so shared configs still load.
  assert(build({ v2ray_api: { listen: "127.0.0.1:8080" }, debug: { gc_percent: 50 } }) instanceof Box);
});
