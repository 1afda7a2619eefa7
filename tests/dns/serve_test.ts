import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { buildDnsRouter } from "../../src/dns/build.ts";
import { dnsSchema } from "../../src/dns/options.ts";
import { listenDns, truncateResponse, udpLimit } from "../../src/dns/serve.ts";
import { listenDnsBatch } from "../../src/dns/serve_batch.ts";
import { buildQuery } from "../../src/dns/client.ts";
import { TYPE } from "../../src/dns/wire.ts";
import { hasCommand, startDnsmasq } from "./_peers.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("udpLimit and truncateResponse follow the query's EDNS0 payload size", () => {
  const q = buildQuery("a.test", TYPE.A);
  assertEquals(udpLimit(q), 512);
  const big = new Uint8Array(700);
  big.set(q);
  big[2] |= 0x80;
  big[7] = 3;
  const t = truncateResponse(big, 512);
  assertEquals(t.length, q.length);
  assert((t[2] & 0x02) !== 0);
  assertEquals([t[5], t[7]], [1, 0]);
});

Deno.test({
  name:
    "DNS inbound answers dig and kdig over UDP and TCP through the router (dnsmasq upstream, fakeip, truncation)",
  ignore: !hasCommand("dnsmasq") || !hasCommand("dig") || !hasCommand("kdig"),
  async fn() {
    const upstream = await startDnsmasq();
    const router = buildDnsRouter(dnsSchema.parse({
      servers: [
        { type: "udp", tag: "up", server: "127.0.0.1", server_port: upstream.port },
        { type: "fakeip", tag: "fake", inet4_range: "198.18.0.0/15", inet6_range: "fc00::/18" },
      ],
      rules: [
        { domain_suffix: ["fake.test"], query_type: ["A", "AAAA"], server: "fake" },
        { domain: ["ads.test"], action: "reject" },
      ],
      final: "up",
    }));
    const server = listenDns(router, { hostname: "127.0.0.1", port: 0 });
    const at = ["@127.0.0.1", "-p", String(server.port)];
    try {
      assertEquals((await run("dig", [...at, "+short", "x.test", "A"])).trim(), "10.99.9.9");
      assertEquals((await run("kdig", [...at, "+tcp", "+short", "x.test", "AAAA"])).trim(), "fd00::99");
      assertEquals((await run("dig", [...at, "+short", "www.fake.test", "A"])).trim(), "198.18.0.2");
      assertEquals((await run("kdig", [...at, "+short", "www.fake.test", "AAAA"])).trim(), "fc00::2");
      assertEquals(router.reverseLookup("198.18.0.2"), "www.fake.test");
      assertStringIncludes(await run("dig", [...at, "ads.test"]), "status: REFUSED");
      // 12 TXT records do not fit 512 bytes: TC over UDP, full answer after dig's TCP retry.
      assertStringIncludes(await run("dig", [...at, "+noedns", "+ignore", "big.test", "TXT"]), " tc ");
      const full = await run("dig", [...at, "+noedns", "big.test", "TXT"]);
      assertStringIncludes(full, "ANSWER: 12");
      assertStringIncludes(await run("dig", [...at, "nope.test"]), "status: NXDOMAIN");
    } finally {
      await server.close();
      await router.close();
      await upstream.close();
    }
  },
});

Deno.test({
  name: "listenDnsBatch (recvmmsg/sendmmsg) answers cache hits, rule answers and misses",
  ignore: Deno.build.os !== "linux" || !hasCommand("dnsmasq") || !hasCommand("dig"),
  async fn() {
    const upstream = await startDnsmasq();
    const router = buildDnsRouter(dnsSchema.parse({
      servers: [{ type: "udp", tag: "up", server: "127.0.0.1", server_port: upstream.port }],
      rules: [{ domain: ["ads.test"], action: "reject" }, {
        domain: ["drop.test"],
        action: "reject",
        method: "drop",
      }],
    }));
    const server = listenDnsBatch(router, { hostname: "127.0.0.1", port: 0 });
    const at = ["@127.0.0.1", "-p", String(server.port), "+time=1", "+tries=1"];
    try {
      assertEquals((await run("dig", [...at, "+short", "x.test"])).trim(), "10.99.9.9");
      assertEquals(
        (await run("dig", [...at, "+short", "x.test"])).trim(),
        "10.99.9.9",
        "second answer from the cache",
      );
      assertStringIncludes(await run("dig", [...at, "ads.test"]), "status: REFUSED");
      assertStringIncludes(await run("dig", [...at, "drop.test"]), "timed out");
      assertStringIncludes(await run("dig", [...at, "+noedns", "+ignore", "big.test", "TXT"]), " tc ");
      // Many queries at once exercise the batch path.
      const outs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => run("dig", [...at, "+short", `h${i}.x.test`])),
      );
      for (const o of outs) assertEquals(o.trim(), "10.99.9.9");
    } finally {
      await server.close();
      await router.close();
      await upstream.close();
    }
  },
});

Deno.test("DNS server path survives random and mutated datagrams (fuzz)", async () => {
  const fc = (await import("fast-check")).default;
  const { answerAsync } = await import("../../src/dns/serve.ts");
  const router = buildDnsRouter(dnsSchema.parse({
    servers: [{ type: "hosts", tag: "h", predefined: { "a.test": ["10.0.0.1"] } }],
    rules: [{ domain: ["r.test"], action: "reject" }],
  }));
  const md = {
    inbound: "dns-in",
    inboundType: "direct",
    network: "udp" as const,
    source: { host: "127.0.0.1", port: 1 },
    destination: { host: "127.0.0.1", port: 53 },
  };
  const base = buildQuery("a.test", TYPE.A);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ minLength: 12, maxLength: 300 }),
        fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 1, max: 255 })).map(
          ([i, x]) => {
            const b = base.slice();
            b[i] ^= x;
            return b;
          },
        ),
      ),
      async (bytes) => {
        const fast = router.exchangeSync(bytes, md);
        if (fast !== undefined && fast !== null) assert(fast.length >= 12);
        const r = await answerAsync(router, bytes, md);
        assert(r === null || r.length >= 12);
        udpLimit(bytes);
      },
    ),
    { numRuns: 500 },
  );
  await router.close();
});
