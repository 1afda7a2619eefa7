/**
 * End to end: a urltest group over a fast and a slow member (each forced to its own local
 * origin; the slow origin answers after 300 ms) picks the fast one by measured delay, and fails
 * over to the slow one when the fast origin dies. Observed with curl through a mixed inbound
 * and through the Clash API.
 */
import { assert, assertEquals } from "../../_util/assert.ts";
import { api, startNamedOrigin, viaProxy, waitFor } from "../../_util/clash.ts";
import { freePort, startSwitchyard } from "../../_util/mod.ts";

Deno.test("urltest picks the faster member and fails over when it dies", async () => {
  const fast = startNamedOrigin("fast");
  const slow = startNamedOrigin("slow", 300);
  const [mixed, apiPort] = [freePort(), freePort()];
  const sy = await startSwitchyard({
    log: { level: "debug" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: mixed }],
    outbounds: [
      {
        type: "urltest",
        tag: "auto",
        outbounds: ["slow", "fast"],
        url: "http://127.0.0.1:1/generate_204",
        interval: "1s",
        idle_timeout: "30s",
      },
      { type: "direct", tag: "slow", override_address: "127.0.0.1", override_port: slow.port },
      { type: "direct", tag: "fast", override_address: "127.0.0.1", override_port: fast.port },
    ],
    experimental: { clash_api: { external_controller: `127.0.0.1:${apiPort}` } },
  }, [mixed, apiPort]);
  let fastClosed = false;
  try {
    await waitFor(
      async () => (await api(apiPort, "/proxies/auto")).json?.now === "fast",
      10_000,
      "auto → fast",
    );
    const proxies = (await api(apiPort, "/proxies")).json.proxies;
    const slowDelay = proxies.slow.history[0]?.delay;
    assert(slowDelay >= 300, `slow member delay ${slowDelay} ms`);
    assert(proxies.fast.history[0].delay < slowDelay, "fast member measured faster");
    assertEquals(proxies.auto.type, "URLTest");
    assertEquals(proxies.auto.all, ["slow", "fast"]);
    assertEquals(await viaProxy(mixed, "http://127.0.0.1:1/"), "origin-fast\n");

    await fast.close();
    fastClosed = true;
    await waitFor(
      async () => (await api(apiPort, "/proxies/auto")).json?.now === "slow",
      10_000,
      "auto → slow",
    );
    assertEquals(await viaProxy(mixed, "http://127.0.0.1:1/"), "origin-slow\n");
    assertEquals((await api(apiPort, "/proxies/fast")).json.history, [], "the dead member has no delay");
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- switchyard ---\n${sy.output().slice(-3000)}`);
  } finally {
    await sy.stop();
    if (!fastClosed) await fast.close();
    await slow.close();
  }
});
