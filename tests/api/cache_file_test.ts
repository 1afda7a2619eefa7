/**
 * The JSON cache file: debounced atomic writes only after start, cache_id namespaces, an
 * unreadable file set aside, fake-IP persistence through the DNS fake-IP store, RDRC expiry.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import { CacheFile } from "../../src/api/cache_file.ts";
import { FakeIpStore } from "../../src/dns/transports/fakeip.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("CacheFile writes after the debounce, atomically, and never before start()", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cache.db`;
  try {
    const idle = new CacheFile({ path, debounceMs: 20 });
    idle.storeSelected("g", "x");
    idle.storeMode("Global");
    await sleep(80);
    await idle.close();
    assertEquals(await exists(path), false, "a cache never started (switchyard check) writes nothing");

    const c = new CacheFile({ path, debounceMs: 50 });
    c.start();
    c.storeSelected("g", "a");
    c.storeSelected("g", "b");
    c.storeMode("Global");
    assertEquals(await exists(path), false, "debounced");
    await sleep(200);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), {
      version: 1,
      namespaces: { "": { selected: { g: "b" }, clash_mode: "Global" } },
    });
    assertEquals(await exists(`${path}.tmp`), false, "written through a renamed temporary file");
    await c.close();

    const again = new CacheFile({ path, cacheId: "other" });
    assertEquals([again.loadSelected("g"), again.loadMode()], [undefined, undefined], "cache_id namespaces");
    again.start();
    again.storeSelected("g", "c");
    await again.close();
    const third = new CacheFile({ path });
    assertEquals([third.loadSelected("g"), third.loadMode()], ["b", "Global"]);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheFile sets an unreadable file aside and starts empty", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cache.db`;
  try {
    await Deno.writeTextFile(path, "bbolt bytes, not JSON");
    const warnings: string[] = [];
    const log = { trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const c = new CacheFile({ path, logger: log });
    assertEquals(c.loadSelected("g"), undefined);
    assert(warnings[0]?.includes("unreadable"), String(warnings));
    assertEquals(await Deno.readTextFile(`${path}.bad`), "bbolt bytes, not JSON");
    await c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheFile keeps the fake-IP table and cursor for the DNS fake-IP store", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cache.db`;
  try {
    const c1 = new CacheFile({ path, storeFakeip: true });
    c1.start();
    const s1 = new FakeIpStore({ inet4Range: "198.18.0.0/15", storage: c1.fakeIpStorage });
    assertEquals([s1.create("a.test", false), s1.create("b.test", false)], ["198.18.0.2", "198.18.0.3"]);
    await c1.close();
    const c2 = new CacheFile({ path, storeFakeip: true });
    const s2 = new FakeIpStore({ inet4Range: "198.18.0.0/15", storage: c2.fakeIpStorage });
    assertEquals(s2.lookup("198.18.0.3"), "b.test");
    assertEquals(s2.create("c.test", false), "198.18.0.4");
    await c2.close();
    const c3 = new CacheFile({ path, storeFakeip: true });
    const s3 = new FakeIpStore({ inet4Range: "10.0.0.0/8", storage: c3.fakeIpStorage });
    assertEquals(s3.lookup("198.18.0.2"), undefined, "a changed range resets the table");
    await c3.close();
    assertEquals(new CacheFile({ path }).fakeIpStorage, undefined, "only with store_fakeip");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CacheFile RDRC entries expire after rdrc_timeout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = new CacheFile({ path: `${dir}/c.db`, storeRdrc: true, rdrcTimeoutMs: 30 });
    const rdrc = c.rdrcStore!;
    rdrc.save("dns", "ads.test", 1);
    assertEquals([rdrc.load("dns", "ads.test", 1), rdrc.load("dns", "ads.test", 28)], [true, false]);
    await sleep(60);
    assertEquals(rdrc.load("dns", "ads.test", 1), false);
    assertEquals(new CacheFile({ path: `${dir}/c.db` }).rdrcStore, undefined, "only with store_rdrc");
    await c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
