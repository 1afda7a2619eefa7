/**
 * DNS wired into the router: a DNS inbound (`direct` + `hijack-dns`) answered by the DNS
 * router, outbound `domain_resolver`, and the `resolve` action feeding IP rules.
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { cli, curl, freePort, HELLO, requireTool, run, startOrigin, startSwitchyard } from "../_util/mod.ts";

Deno.test("hijack-dns answers dig over UDP and TCP; domain_resolver and resolve use the DNS router", async (t) => {
  if (!requireTool("dig", "bind9-dnsutils")) return;
  const origin = startOrigin();
  const [mixed, dnsPort] = [freePort(), freePort()];
  const sy = await startSwitchyard({
    log: { level: "debug" },
    dns: {
      servers: [{
        type: "hosts",
        tag: "hosts",
        predefined: {
          "origin.test": "127.0.0.1",
          "far.test": "10.99.9.9",
          "both.test": ["127.0.0.2", "::1"],
        },
      }],
      final: "hosts",
    },
    inbounds: [
      { type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: mixed },
      { type: "direct", tag: "dns-in", listen: "127.0.0.1", listen_port: dnsPort },
    ],
    outbounds: [{ type: "direct", tag: "direct", domain_resolver: "hosts" }],
    route: {
      rules: [
        { inbound: ["dns-in"], action: "hijack-dns" },
        { domain_suffix: ["far.test"], action: "resolve", server: "hosts" },
        { ip_cidr: ["10.99.0.0/16"], action: "reject" },
      ],
    },
  }, [mixed, dnsPort]);
  try {
    await t.step("dig over UDP and TCP gets the hosts answer through the DNS inbound", async () => {
      const udp = await run("dig", [
        "@127.0.0.1",
        "-p",
        String(dnsPort),
        "+short",
        "+time=3",
        "+tries=1",
        "origin.test",
        "A",
      ]);
      assertEquals(udp.stdout.trim(), "127.0.0.1", udp.stdout + udp.stderr);
      const tcp = await run("dig", [
        "@127.0.0.1",
        "-p",
        String(dnsPort),
        "+tcp",
        "+short",
        "+time=3",
        "+tries=1",
        "both.test",
        "AAAA",
      ]);
      assertEquals(tcp.stdout.trim(), "::1", tcp.stdout + tcp.stderr);
      assertStringIncludes(sy.output(), "hijack DNS");
    });
    await t.step("the direct outbound resolves names with its domain_resolver", async () => {
      const r = await curl([
        "-x",
        `socks5h://127.0.0.1:${mixed}`,
        `http://origin.test:${origin.port}/hello.txt`,
      ]);
      assertEquals(r.stdout, HELLO, r.stderr + sy.output().slice(-1500));
    });
    await t.step(
      "resolve makes the IP rule match a domain destination (rejected before any dial)",
      async () => {
        const r = await curl(["-v", "-x", `socks5h://127.0.0.1:${mixed}`, "http://far.test/"]);
        assert(r.code !== 0);
        assertStringIncludes(r.stderr, "(2)");
        assertStringIncludes(sy.output(), "resolved far.test to 10.99.9.9");
        assert(!sy.output().includes("outbound connection to far.test"), "no dial was attempted");
      },
    );
  } finally {
    await sy.stop();
    await origin.close();
  }
});

Deno.test("DNS config errors name their path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-dns-cfg-" });
  try {
    const cases: [unknown, string][] = [
      [{ dns: { servers: [{ type: "carrier-pigeon", tag: "x" }] } }, "dns.servers[0]"],
      [{
        dns: { servers: [{ type: "hosts", tag: "h" }] },
        route: { rules: [{ action: "resolve", server: "nope" }] },
      }, 'route.rules[0].server: DNS server "nope" not found'],
      [
        { outbounds: [{ type: "direct", domain_resolver: "ghost" }] },
        'outbounds[0].domain_resolver: DNS server "ghost" not found',
      ],
    ];
    for (const [cfg, expected] of cases) {
      await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify(cfg));
      const r = await cli(["check", "-c", `${dir}/c.json`]);
      assertEquals(r.code, 1, JSON.stringify(cfg));
      assertStringIncludes(r.stderr, expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
