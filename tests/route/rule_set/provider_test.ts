import { assert, assertEquals, assertRejects } from "../../_util/assert.ts";
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

Deno.test("startRuleSets validates entries, rejects duplicate tags and starts every set", async () => {
  const { startRuleSets, closeRuleSets } = await import("../../../src/route/rule_set/provider.ts");
  const { ConfigError } = await import("../../../src/common/errors.ts");
  const sets = await startRuleSets([
    { tag: "a", type: "inline", rules: [{ domain: "a.test" }] },
    { tag: "b", rules: [{ domain_suffix: "b.test" }] },
  ]);
  assert(sets.get("a")!.match(ctx("a.test")));
  assert(sets.get("b")!.match(ctx("x.b.test")));
  await closeRuleSets(sets);
  await assertRejects(
    () => startRuleSets([{ tag: "a" }, { tag: "a" }]),
    ConfigError,
    "route.rule_set[1].tag",
  );
  await assertRejects(() => startRuleSets([{ tag: "x", type: "local" }]), ConfigError, "route.rule_set[0]");
  await assertRejects(
    () => startRuleSets([{ tag: "x", type: "local", path: "/nonexistent/x.json" }]),
    Error,
    'rule-set "x"',
  );
});
