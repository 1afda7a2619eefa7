import { assert, assertEquals, assertRejects, assertThrows } from "../../_util/assert.ts";
import { RuleSet, ruleSetOptionsSchema } from "../../../src/route/rule_set/provider.ts";
import { writeSrs } from "../../../src/route/rule_set/srs.ts";

function ctx(domain: string) {
  return {
    metadata: {
      inbound: "",
      inboundType: "",
      network: "tcp" as const,
      source: { host: "10.0.0.1", port: 1 },
      destination: { host: "", port: 443 },
    },
    domain,
    destinationIps: [],
  };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("inline rule-set matches its rules", async () => {
  const rs = new RuleSet(
    ruleSetOptionsSchema.parse({ tag: "in", type: "inline", rules: [{ domain_suffix: "a.test" }] }),
  );
  await rs.start();
  assert(rs.match(ctx("x.a.test")));
  assert(!rs.match(ctx("b.test")));
  await rs.close();
});

Deno.test("local rule-set loads by extension and reloads when the file changes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/set.json`;
  await Deno.writeTextFile(path, JSON.stringify({ version: 1, rules: [{ domain: "one.test" }] }));
  const rs = new RuleSet(ruleSetOptionsSchema.parse({ tag: "local", type: "local", path }));
  try {
    await rs.start();
    assert(rs.match(ctx("one.test")));
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, rules: [{ domain: "two.test" }] }));
    await until(() => rs.match(ctx("two.test")));
    assert(!rs.match(ctx("one.test")));
  } finally {
    await rs.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("remote rule-set downloads, caches on disk, and starts from the cache when the server is gone", async () => {
  const dir = await Deno.makeTempDir();
  const body = writeSrs({ version: 2, rules: [{ domain_suffix: ["remote.test"] }] });
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    hits++;
    return new Response(new Uint8Array(body));
  });
  const url = `http://127.0.0.1:${server.addr.port}/geo.srs`;
  try {
    const opts = ruleSetOptionsSchema.parse({ tag: "geo", type: "remote", url, update_interval: "1h" });
    const first = new RuleSet(opts, { cacheDir: `${dir}/cache` });
    await first.start();
    assert(first.match(ctx("x.remote.test")));
    await first.close();
    assertEquals(hits, 1);
    await server.shutdown();
    const second = new RuleSet(opts, { cacheDir: `${dir}/cache` });
    await second.start();
    assert(second.match(ctx("remote.test")));
    assertEquals(hits, 1, "fresh cache: no download");
    await second.close();
    const noCache = new RuleSet(opts, {});
    await assertRejects(() => noCache.start(), Error);
    await noCache.close();
  } finally {
    await server.shutdown().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createRuleSets validates entries and tags; startRuleSets loads every set", async () => {
  const { createRuleSets, startRuleSets, closeRuleSets } = await import(
    "../../../src/route/rule_set/provider.ts"
  );
  const { ConfigError } = await import("../../../src/common/errors.ts");
  const sets = createRuleSets([
    { tag: "a", type: "inline", rules: [{ domain: "a.test" }] },
    { tag: "b", rules: [{ domain_suffix: "b.test" }] },
  ]);
  await startRuleSets(sets);
  assert(sets.get("a")!.match(ctx("a.test")));
  assert(sets.get("b")!.match(ctx("x.b.test")));
  await closeRuleSets(sets);
  assertThrows(() => createRuleSets([{ tag: "a" }, { tag: "a" }]), ConfigError, "route.rule_set[1].tag");
  assertThrows(() => createRuleSets([{ tag: "x", type: "local" }]), ConfigError, "route.rule_set[0]");
  assertThrows(
    () => createRuleSets([{ tag: "x", type: "local", path: "/etc/set.txt" }]),
    ConfigError,
    "route.rule_set[0].format: cannot infer",
  );
  assertThrows(
    () =>
      createRuleSets(
        [{ tag: "r", type: "remote", url: "http://x.test/r.srs", download_detour: "nope" }],
        {},
        () => false,
      ),
    ConfigError,
    'route.rule_set[0].download_detour: outbound "nope" not found',
  );
  assertThrows(
    () => createRuleSets([{ tag: "i", rules: [{ domain_regex: "(" }] }]),
    ConfigError,
    "route.rule_set[0].rules[0].domain_regex[0]",
  );
  const missing = createRuleSets([{ tag: "x", type: "local", path: "/nonexistent/x.json" }]);
  await assertRejects(() => startRuleSets(missing), Error, 'Cannot load rule-set "x"');
});
