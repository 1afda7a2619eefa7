/**
 * End to end: a selector over two direct members (each forced to its own local origin) behind a
 * mixed inbound; curl through the proxy shows which member is used while the Clash API
 * switches it, a switch interrupts a live connection (`interrupt_exist_connections`), and the
 * choice survives a restart through `cache_file`.
 */
import { assert, assertEquals } from "../../_util/assert.ts";
import { api, startNamedOrigin, viaProxy } from "../../_util/clash.ts";
import { freePort, startSwitchyard } from "../../_util/mod.ts";

Deno.test("selector switches via PUT /proxies, interrupts live connections and persists its choice", async () => {
  const originA = startNamedOrigin("A");
  const originB = startNamedOrigin("B");
  const dir = await Deno.makeTempDir({ prefix: "sy-selector-" });
  const [mixed, apiPort] = [freePort(), freePort()];
  const secret = "s3cret";
  const config = {
    log: { level: "debug" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: mixed }],
    outbounds: [
      {
        type: "selector",
        tag: "sel",
        outbounds: ["a", "b"],
        default: "a",
        interrupt_exist_connections: true,
      },
      { type: "direct", tag: "a", override_address: "127.0.0.1", override_port: originA.port },
      { type: "direct", tag: "b", override_address: "127.0.0.1", override_port: originB.port },
    ],
    experimental: {
      clash_api: { external_controller: `127.0.0.1:${apiPort}`, secret },
      cache_file: { enabled: true, path: `${dir}/cache.db` },
    },
  };
  const target = "http://127.0.0.1:1/";
  let sy = await startSwitchyard(config, [mixed, apiPort]);
  try {
    assertEquals(await viaProxy(mixed, target), "origin-A\n");

    // A long-lived download through member a.
    const stream = new Deno.Command("curl", {
      args: ["-s", "-N", "--max-time", "30", "-x", `http://127.0.0.1:${mixed}`, "http://127.0.0.1:1/stream"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = stream.stdout.getReader();
    const first = await reader.read();
    assertEquals(
      new TextDecoder().decode(first.value).split("\n")[0],
      "A 1",
      "the stream comes from origin A",
    );
    const conns = (await api(apiPort, "/connections", { secret })).json.connections;
    assertEquals(conns.length, 1);
    assertEquals(conns[0].chains, ["a", "sel"]);
    assertEquals(conns[0].rule, "final");

    const t0 = performance.now();
    const put = await api(apiPort, "/proxies/sel", { method: "PUT", body: { name: "b" }, secret });
    assertEquals(put.status, 204, put.body);
    while (!(await reader.read()).done) { /* drain until the interrupted stream ends */ }
    await stream.status;
    const elapsed = performance.now() - t0;
    assert(elapsed < 5000, `the switch should close the live connection at once, took ${elapsed} ms`);

    assertEquals(await viaProxy(mixed, target), "origin-B\n");
    assertEquals((await api(apiPort, "/proxies/sel", { secret })).json.now, "b");
  } finally {
    await sy.stop();
  }
  const saved = JSON.parse(await Deno.readTextFile(`${dir}/cache.db`));
  assertEquals(saved.namespaces[""].selected, { sel: "b" });

  sy = await startSwitchyard(config, [mixed, apiPort]);
  try {
    assertEquals((await api(apiPort, "/proxies/sel", { secret })).json.now, "b", "restored from cache_file");
    assertEquals(await viaProxy(mixed, target), "origin-B\n");
  } finally {
    await sy.stop();
    await originA.close();
    await originB.close();
    await Deno.remove(dir, { recursive: true });
  }
});
