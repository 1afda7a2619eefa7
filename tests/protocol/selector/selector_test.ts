/**
 * The selector group: which member starts selected (stored choice, `default`, first), switching,
 * interrupting connections, and the config checks for members, defaults and loops.
 */
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import type { Outbound } from "../../../src/adapter/types.ts";
import { Box } from "../../../src/box.ts";
import { ConfigError } from "../../../src/common/errors.ts";
import { parseConfig } from "../../../src/config/config.ts";
import { registries } from "../../../src/include/registry.ts";
import { SelectorOutbound, selectorOutboundSchema } from "../../../src/protocol/selector/outbound.ts";
import { FakeOutbound, groupContext, MemorySelections } from "../_group_fakes.ts";

const dest = { host: "example.com", port: 80 };

function setup(options: Record<string, unknown>, stored?: string) {
  const a = new FakeOutbound("a");
  const b = new FakeOutbound("b", ["tcp"]);
  const map = new Map<string, Outbound>([["a", a], ["b", b]]);
  const cache = new MemorySelections();
  if (stored) cache.storeSelected("sel", stored);
  const parsed = selectorOutboundSchema.parse({ type: "selector", outbounds: ["a", "b"], ...options });
  const sel = new SelectorOutbound(groupContext("sel", map, { cacheFile: cache }), parsed);
  map.set("sel", sel);
  return { a, b, sel, cache };
}

Deno.test("SelectorOutbound starts on the stored member, else default, else the first member", async () => {
  const first = setup({});
  await first.sel.start();
  assertEquals(first.sel.now(), "a");
  const def = setup({ default: "b" });
  await def.sel.start();
  assertEquals(def.sel.now(), "b");
  assertEquals([...def.sel.network], ["tcp"], "network follows the selected member");
  const stored = setup({ default: "a" }, "b");
  await stored.sel.start();
  assertEquals(stored.sel.now(), "b");
  const gone = setup({ default: "b" }, "removed-member");
  await gone.sel.start();
  assertEquals(gone.sel.now(), "b", "a stored tag that is no member any more is ignored");
});

Deno.test("SelectorOutbound.select() switches dials, stores the choice and refuses non-members", async () => {
  const { a, b, sel, cache } = setup({});
  await sel.start();
  await sel.dial(dest);
  assertEquals(a.dialed.length, 1);
  assert(sel.select("b"));
  assertEquals(cache.loadSelected("sel"), "b");
  await sel.dial(dest);
  assertEquals(b.dialed, [dest]);
  assertEquals(sel.select("nope"), false);
  assertEquals(sel.now(), "b");
  assertEquals(sel.all(), ["a", "b"]);
});

Deno.test("SelectorOutbound interrupts internal connections on a switch, external ones only when configured", async () => {
  const meta = {
    inbound: "in",
    inboundType: "mixed",
    network: "tcp" as const,
    source: { host: "127.0.0.1", port: 1 },
    destination: dest,
  };
  const plain = setup({});
  await plain.sel.start();
  await plain.sel.dial(dest); // internal (no metadata)
  await plain.sel.dial(dest, { metadata: meta }); // routed for an inbound
  plain.sel.select("b");
  assertEquals(plain.a.streams.map((s) => s.closed), [true, false]);

  const strict = setup({ interrupt_exist_connections: true });
  await strict.sel.start();
  await strict.sel.dial(dest, { metadata: meta });
  await strict.sel.listenPacket(dest, { metadata: meta });
  strict.sel.select("a"); // already selected: nothing happens
  assertEquals(strict.a.streams.map((s) => s.closed), [false, false]);
  strict.sel.select("b");
  assertEquals(strict.a.streams.map((s) => s.closed), [true, true]);
});

function build(outbounds: unknown[]) {
  const regs = registries();
  return Box.create(parseConfig({ outbounds }, regs), regs);
}

Deno.test("selector config errors name the JSON path", () => {
  assertThrows(
    () => build([{ type: "selector", tag: "s", outbounds: ["a", "missing"] }, { type: "direct", tag: "a" }]),
    ConfigError,
    'outbounds[0].outbounds[1]: outbound "missing" not found',
  );
  assertThrows(
    () =>
      build([{ type: "selector", tag: "s", outbounds: ["a"], default: "b" }, { type: "direct", tag: "a" }]),
    ConfigError,
    "outbounds[0].default: default outbound not found in outbounds",
  );
  assertThrows(
    () => build([{ type: "selector", tag: "s", outbounds: [] }]),
    ConfigError,
    "outbounds[0].outbounds: missing tags",
  );
  assertThrows(
    () => build([{ type: "selector", tag: "s", outbounds: "a" }]),
    ConfigError,
    "outbounds[0].outbounds",
  );
  assertThrows(
    () =>
      build([
        { type: "selector", tag: "s1", outbounds: ["a", "s2"] },
        { type: "urltest", tag: "s2", outbounds: ["s1"] },
        { type: "direct", tag: "a" },
      ]),
    ConfigError,
    "group loop: s1 -> s2 -> s1",
  );
  assertThrows(
    () => build([{ type: "selector", tag: "s", outbounds: ["s"] }]),
    ConfigError,
    "outbounds[0].outbounds[0]: group loop",
  );
});

Deno.test("nested groups resolve: a selector over a selector dials the inner member", async () => {
  const box = build([
    { type: "selector", tag: "outer", outbounds: ["inner", "a"] },
    { type: "selector", tag: "inner", outbounds: ["b", "a"] },
    { type: "block", tag: "b" },
    { type: "direct", tag: "a" },
  ]);
  const outer = box.outbounds.get("outer") as SelectorOutbound;
  const inner = box.outbounds.get("inner") as SelectorOutbound;
  await outer.start();
  await inner.start();
  assertEquals(outer.now(), "inner");
  const err = await outer.dial(dest).then(() => null, (e: Error) => e);
  assert(
    err && err.message.includes('blocked by outbound "b"'),
    `expected the block member to refuse, got ${err}`,
  );
});
