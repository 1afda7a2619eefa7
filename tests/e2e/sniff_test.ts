/**
 * The `sniff` rule action end to end: the client sends an IP literal to the proxy (curl
 * `--resolve` + socks5, not socks5h), and rules after `sniff` match the HTTP Host or TLS SNI.
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { curl, freePort, HELLO, startOrigin, startSwitchyard } from "../_util/mod.ts";
import { socks5UdpRoundTrip, startUdpEcho } from "../_util/socks_udp.ts";
import dnsPacket from "dns-packet";

Deno.test("sniff action: rules after it match the HTTP Host and the TLS SNI of an IP-literal connection", async (t) => {
  const origin = startOrigin();
  const port = freePort();
  const sy = await startSwitchyard({
    log: { level: "debug" },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
    outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
    route: {
      rules: [
        { inbound: ["in"], action: "sniff", timeout: "300ms" },
        { domain_suffix: ["blocked.test"], outbound: "block" },
        { protocol: ["tls"], domain: ["sni.test"], action: "reject" },
        { network: ["udp"], protocol: ["dns"], action: "reject" },
      ],
      final: "direct",
    },
  }, [port]);
  try {
    await t.step("HTTP Host of a blocked name is blocked although the client sent 127.0.0.1", async () => {
      const r = await curl([
        "-x",
        `socks5://127.0.0.1:${port}`,
        "--resolve",
        `www.blocked.test:${origin.port}:127.0.0.1`,
        `http://www.blocked.test:${origin.port}/hello.txt`,
      ]);
      assert(r.code !== 0 && r.stdout === "", `expected a refusal, got rc ${r.code} ${r.stdout}`);
      assertStringIncludes(sy.output(), "sniffed protocol: http, domain: www.blocked.test");
    });
    await t.step(
      "another Host passes, and the bytes peeked while sniffing reach the origin intact",
      async () => {
        const r = await curl([
          "-x",
          `socks5://127.0.0.1:${port}`,
          "--resolve",
          `allowed.test:${origin.port}:127.0.0.1`,
          `http://allowed.test:${origin.port}/hello.txt`,
        ]);
        assertEquals(r.stdout, HELLO, r.stderr);
        const big = await curl([
          "-o",
          "/dev/null",
          "-w",
          "%{size_download}",
          "-x",
          `socks5://127.0.0.1:${port}`,
          "--resolve",
          `allowed.test:${origin.port}:127.0.0.1`,
          `http://allowed.test:${origin.port}/bytes?n=3000000`,
        ]);
        assertEquals(big.stdout, "3000000");
      },
    );
    await t.step("TLS SNI is sniffed from the ClientHello and matched with protocol=tls", async () => {
      const r = await curl([
        "-k",
        "-x",
        `socks5://127.0.0.1:${port}`,
        "--resolve",
        `sni.test:${origin.port}:127.0.0.1`,
        `https://sni.test:${origin.port}/`,
      ]);
      assert(r.code !== 0);
      assertStringIncludes(sy.output(), "sniffed protocol: tls, domain: sni.test");
      assertStringIncludes(sy.output(), "rejected by rule: protocol=tls domain=sni.test => reject");
    });
    await t.step(
      "a client that sends nothing is routed after the sniff timeout (server-first protocols still work)",
      async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(Uint8Array.of(5, 1, 0));
        await c.write(Uint8Array.of(5, 1, 0, 1, 127, 0, 0, 1, origin.port >> 8, origin.port & 0xff));
        const buf = new Uint8Array(64);
        let got = 0;
        while (got < 12) got += (await c.read(buf.subarray(got)))!;
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, 400));
        await c.write(new TextEncoder().encode("GET /hello.txt HTTP/1.0\r\n\r\n"));
        let text = "";
        for (;;) {
          const n = await c.read(buf);
          if (n === null) break;
          text += new TextDecoder().decode(buf.subarray(0, n));
        }
        c.close();
        assert(performance.now() - t0 >= 350);
        assert(text.endsWith(HELLO), text);
        assertStringIncludes(sy.output(), "sniffed nothing");
      },
    );
    await t.step("the first UDP datagram is sniffed: DNS is rejected, other payloads pass", async () => {
      const echo = startUdpEcho();
      try {
        const other = await socks5UdpRoundTrip(
          port,
          { host: "127.0.0.1", port: echo.port },
          new TextEncoder().encode("plain"),
        );
        assertEquals(new TextDecoder().decode(other.data), "plain");
        const query = dnsPacket.encode({
          type: "query",
          id: 7,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ type: "A", name: "example.test" }],
        });
        let refused = false;
        await socks5UdpRoundTrip(port, { host: "127.0.0.1", port: echo.port }, new Uint8Array(query)).catch(
          () => refused = true,
        );
        assert(refused, "a DNS datagram must not be relayed");
        assertStringIncludes(sy.output(), "sniffed protocol: dns");
      } finally {
        echo.close();
      }
    });
  } finally {
    await sy.stop();
    await origin.close();
  }
});
