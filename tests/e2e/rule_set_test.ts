/**
 * Rule-sets and process rules end to end: `switchyard run` as a subprocess, curl through the mixed
 * inbound (socks5 with an IP literal; the name comes from the sniffed HTTP Host).
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { cli, curl, freePort, HELLO, run, startOrigin, startSwitchyard } from "../_util/mod.ts";

/** curl through the proxy at `port` to the origin, with `name` as the sniffed Host. */
function fetchAs(port: number, name: string, originPort: number) {
  return curl([
    "-x",
    `socks5://127.0.0.1:${port}`,
    "--resolve",
    `${name}:${originPort}:127.0.0.1`,
    `http://${name}:${originPort}/hello.txt`,
  ]);
}

async function passes(port: number, name: string, originPort: number): Promise<boolean> {
  const r = await fetchAs(port, name, originPort);
  if (r.stdout === HELLO) return true;
  assert(r.code !== 0 && r.stdout === "", `neither passed nor blocked: rc ${r.code} ${r.stdout}`);
  return false;
}

async function until(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const SNIFF = { action: "sniff", timeout: "300ms" };

Deno.test("a local rule-set routes by domain_suffix to block or direct, and a file change switches the decision", async () => {
  const origin = startOrigin();
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const setPath = `${dir}/blocked.json`;
  const writeSet = (suffixes: string[]) =>
    Deno.writeTextFile(setPath, JSON.stringify({ version: 3, rules: [{ domain_suffix: suffixes }] }));
  await writeSet(["blocked.test"]);
  const sy = await startSwitchyard({
    log: { level: "debug" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
    outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
    route: {
      rule_set: [{ type: "local", tag: "blocked", path: setPath }],
      rules: [SNIFF, { rule_set: ["blocked"], outbound: "block" }],
      final: "direct",
    },
  }, [port]);
  try {
    assert(!(await passes(port, "www.blocked.test", origin.port)), "name in the set is blocked");
    assert(await passes(port, "fine.test", origin.port), "other names go direct");
    assertStringIncludes(sy.output(), "rule_set=blocked => route(block)");
    await writeSet(["fine.test"]);
    await until(
      async () => !(await passes(port, "fine.test", origin.port)),
      "fine.test blocked after reload",
    );
    assert(await passes(port, "www.blocked.test", origin.port), "removed suffix goes direct again");
    assertStringIncludes(sy.output(), "rule-set[blocked]: reloaded");
  } finally {
    await sy.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a remote rule-set is downloaded through download_detour; one that cannot be loaded stops start-up", async () => {
  const origin = startOrigin();
  const port = freePort();
  let downloads = 0;
  const sets = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname !== "/ads.json") return new Response("gone", { status: 404 });
    downloads++;
    return Response.json({ version: 3, rules: [{ domain: ["ads.test"] }] });
  });
  const config = (path: string) => ({
    log: { level: "info" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
    outbounds: [{ type: "block", tag: "block" }, { type: "direct", tag: "fetcher" }],
    route: {
      rule_set: [{
        type: "remote",
        tag: "ads",
        url: `http://127.0.0.1:${sets.addr.port}${path}`,
        download_detour: "fetcher",
      }],
      rules: [SNIFF, { rule_set: "ads", outbound: "block" }],
      final: "fetcher",
    },
  });
  try {
    const sy = await startSwitchyard(config("/ads.json"), [port]);
    try {
      assertEquals(downloads, 1);
      assert(!(await passes(port, "ads.test", origin.port)));
      assert(await passes(port, "other.test", origin.port));
    } finally {
      await sy.stop();
    }
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(config("/missing.json")));
      const r = await cli(["run", "-c", `${dir}/bad.json`]);
      assert(r.code !== 0, "start-up fails");
      assertStringIncludes(r.stderr + r.stdout, 'Cannot load rule-set "ads"');
      assertStringIncludes(r.stderr + r.stdout, "HTTP 404");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await sets.shutdown();
    await origin.close();
  }
});

Deno.test(
  "process_name: a connection from curl is blocked while the test's own deno process is let through",
  {
    ignore: Deno.build.os !== "linux",
  },
  async () => {
    const origin = startOrigin();
    const port = freePort();
    const user = (await run("id", ["-un"])).stdout.trim();
    const sy = await startSwitchyard({
      log: { level: "debug" },
      inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
      outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
      route: {
        rules: [
          { process_name: ["curl"], outbound: "block" },
          // Everything that is not this deno process (as this user) is blocked too: a lookup
          // that found nothing would block the deno request below.
          {
            type: "logical",
            mode: "and",
            rules: [
              { process_path: [Deno.execPath()] },
              { process_path_regex: ["/deno$"] },
              { user: [user] },
              { user_id: [Deno.uid() ?? 0] },
            ],
            invert: true,
            outbound: "block",
          },
        ],
        final: "direct",
      },
    }, [port]);
    const client = Deno.createHttpClient({ proxy: { url: `http://127.0.0.1:${port}` } });
    try {
      const viaCurl = await curl([
        "-x",
        `http://127.0.0.1:${port}`,
        `http://127.0.0.1:${origin.port}/hello.txt`,
      ]);
      assert(viaCurl.stdout !== HELLO, `curl must be blocked, got ${viaCurl.stdout}`);
      assertStringIncludes(sy.output(), "found process path: /usr/bin/curl");
      assertStringIncludes(sy.output(), "router: match process_name=curl => route(block)");
      const res = await fetch(`http://127.0.0.1:${origin.port}/hello.txt`, { client });
      assertEquals(await res.text(), HELLO);
      assertStringIncludes(sy.output(), `found process path: ${Deno.execPath()}, user: ${user}`);
    } finally {
      client.close();
      await sy.stop();
      await origin.close();
    }
  },
);
