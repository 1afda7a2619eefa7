/**
 * End to end: `switchyard run` as a subprocess with a real config, a local origin, and curl
 * through every inbound mode; UDP ASSOCIATE; the direct port forward; rule routing; chaining
 * to real dante-server and microsocks.
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import {
  curl,
  freePort,
  freeUdpPort,
  HELLO,
  requireTool,
  spawnDaemon,
  startOrigin,
  startSwitchyard,
  waitForPort,
} from "../_util/mod.ts";
import { socks5UdpRoundTrip, startUdpEcho } from "../_util/socks_udp.ts";

Deno.test("switchyard run relays socks5, socks5h, socks4, socks4a, HTTP and CONNECT through mixed, socks and http inbounds", async (t) => {
  const origin = startOrigin();
  const echo = startUdpEcho();
  const [mixed, socks, http, fwd, fwdUdp] = [freePort(), freePort(), freePort(), freePort(), freeUdpPort()];
  const sy = await startSwitchyard({
    log: { level: "debug" },
    inbounds: [
      { type: "mixed", tag: "mixed-in", listen: "127.0.0.1", listen_port: mixed },
      {
        type: "socks",
        tag: "socks-in",
        listen: "127.0.0.1",
        listen_port: socks,
        users: [{ username: "u", password: "p" }],
      },
      {
        type: "http",
        tag: "http-in",
        listen: "127.0.0.1",
        listen_port: http,
        users: [{ username: "hu", password: "hp" }],
      },
      {
        type: "direct",
        tag: "fwd",
        listen: "127.0.0.1",
        listen_port: fwd,
        network: "tcp",
        override_address: "127.0.0.1",
        override_port: origin.port,
      },
      {
        type: "direct",
        tag: "fwd-udp",
        listen: "127.0.0.1",
        listen_port: fwdUdp,
        network: "udp",
        override_address: "127.0.0.1",
        override_port: echo.port,
      },
    ],
    outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
    route: {
      rules: [
        { domain_suffix: ["blocked.test"], outbound: "block" },
        { domain: ["rejected.test"], action: "reject" },
        { domain: ["alias.test"], action: "route-options", override_address: "127.0.0.1" },
        { auth_user: ["u"], port: [1], action: "reject" },
      ],
      final: "direct",
    },
  }, [mixed, socks, http, fwd]);
  const url = `http://127.0.0.1:${origin.port}/hello.txt`;
  const byName = `http://localhost:${origin.port}/hello.txt`;
  try {
    const ok = async (args: string[]) => {
      const r = await curl(args);
      assertEquals(
        r.stdout,
        HELLO,
        `curl ${args.join(" ")} → rc ${r.code} ${r.stderr}\n${sy.output().slice(-2000)}`,
      );
    };
    await t.step("mixed: socks5 / socks5h / socks4 / socks4a / http / CONNECT", async () => {
      await ok(["-x", `socks5://127.0.0.1:${mixed}`, url]);
      await ok(["-x", `socks5h://127.0.0.1:${mixed}`, byName]);
      await ok(["--socks4", `127.0.0.1:${mixed}`, url]);
      await ok(["--socks4a", `127.0.0.1:${mixed}`, byName]);
      await ok(["-x", `http://127.0.0.1:${mixed}`, url]);
      await ok(["-p", "-x", `http://127.0.0.1:${mixed}`, byName]);
    });
    await t.step("route-options override_address rewrites the dialed host", async () => {
      await ok(["-x", `socks5h://127.0.0.1:${mixed}`, `http://alias.test:${origin.port}/hello.txt`]);
    });
    await t.step("socks inbound requires RFC 1929 credentials", async () => {
      await ok(["-x", `socks5h://u:p@127.0.0.1:${socks}`, byName]);
      const bad = await curl(["-x", `socks5h://u:wrong@127.0.0.1:${socks}`, byName]);
      assert(bad.code !== 0 && bad.stdout === "", `wrong password must fail, got rc ${bad.code}`);
      const none = await curl(["-x", `socks5h://127.0.0.1:${socks}`, byName]);
      assert(none.code !== 0, "no credentials must fail");
    });
    await t.step("http inbound answers 407 without Basic credentials and relays with them", async () => {
      const r = await curl(["-o", "/dev/null", "-w", "%{http_code}", "-x", `http://127.0.0.1:${http}`, url]);
      assertEquals(r.stdout, "407");
      await ok(["-x", `http://hu:hp@127.0.0.1:${http}`, url]);
      await ok(["-p", "-x", `http://hu:hp@127.0.0.1:${http}`, url]);
    });
    await t.step("plain HTTP forwarding strips proxy headers", async () => {
      const r = await curl([
        "-x",
        `http://hu:hp@127.0.0.1:${http}`,
        "-H",
        "Proxy-Connection: keep-alive",
        `http://127.0.0.1:${origin.port}/echo-headers`,
      ]);
      const headers = JSON.parse(r.stdout) as Record<string, string>;
      assertEquals(headers["proxy-authorization"], undefined);
      assertEquals(headers["proxy-connection"], undefined);
      assertEquals(headers["host"], `127.0.0.1:${origin.port}`);
    });
    await t.step("a domain routed to block is refused: SOCKS reply 2, HTTP 403", async () => {
      const s = await curl(["-v", "-x", `socks5h://127.0.0.1:${mixed}`, "http://www.blocked.test/"]);
      assert(s.code !== 0);
      assertStringIncludes(s.stderr, "(2)");
      const h = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-x",
        `http://127.0.0.1:${mixed}`,
        "http://blocked.test/",
      ]);
      assertEquals(h.stdout, "403");
      const c = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{http_connect}",
        "-p",
        "-x",
        `http://127.0.0.1:${mixed}`,
        "http://rejected.test/",
      ]);
      assertEquals(c.stdout, "403");
      // the route to others still works
      await ok(["-x", `socks5h://127.0.0.1:${mixed}`, byName]);
    });
    await t.step("auth_user + port rule applies to the authenticated user only", async () => {
      const r = await curl(["-v", "-x", `socks5h://u:p@127.0.0.1:${socks}`, "http://127.0.0.1:1/"]);
      assertStringIncludes(r.stderr, "(2)");
      const other = await curl(["-v", "-x", `socks5h://127.0.0.1:${mixed}`, "http://127.0.0.1:1/"]);
      assertStringIncludes(other.stderr, "(5)", "not the reject rule: connection refused by the closed port");
    });
    await t.step("direct inbound forwards TCP to override_address:override_port", async () => {
      await ok([`http://127.0.0.1:${fwd}/hello.txt`]);
    });
    await t.step("direct inbound forwards UDP per client", async () => {
      const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      try {
        await s.send(new TextEncoder().encode("udp-forward"), {
          transport: "udp",
          hostname: "127.0.0.1",
          port: fwdUdp,
        });
        const [data] = await s.receive();
        assertEquals(new TextDecoder().decode(data), "udp-forward");
      } finally {
        s.close();
      }
    });
    await t.step("SOCKS5 UDP ASSOCIATE echoes through the mixed inbound", async () => {
      const r = await socks5UdpRoundTrip(
        mixed,
        { host: "127.0.0.1", port: echo.port },
        new TextEncoder().encode("udp-ping"),
      );
      assertEquals(new TextDecoder().decode(r.data), "udp-ping");
      assertEquals(r.from, { host: "127.0.0.1", port: echo.port });
      const byDomain = await socks5UdpRoundTrip(
        mixed,
        { host: "localhost", port: echo.port },
        new TextEncoder().encode("x"),
      );
      assertEquals(
        byDomain.from,
        { host: "localhost", port: echo.port },
        "replies are unmapped to the domain",
      );
    });
    await t.step("a 1 MiB body and 20 parallel downloads arrive intact", async () => {
      const r = await curl([
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        "-x",
        `socks5h://127.0.0.1:${mixed}`,
        `http://localhost:${origin.port}/bytes?n=1048576`,
      ]);
      assertEquals(r.stdout, "1048576");
      const all = await Promise.all(
        Array.from({ length: 20 }, () => curl(["-x", `socks5h://127.0.0.1:${mixed}`, byName])),
      );
      assertEquals(all.map((x) => x.stdout), new Array(20).fill(HELLO));
    });
  } finally {
    const code = await sy.stop("SIGTERM");
    echo.close();
    await origin.close();
    assertEquals(code, 0, "SIGTERM exits cleanly");
  }
});

Deno.test("socks outbound chains through real dante-server and microsocks (v5, v4, UDP)", async (t) => {
  if (!requireTool("danted", "dante-server") || !requireTool("microsocks", "microsocks")) return;
  const origin = startOrigin();
  const echo = startUdpEcho();
  const dantePort = freePort();
  const microPort = freePort();
  const dir = await Deno.makeTempDir({ prefix: "switchyard-dante-" });
  await Deno.writeTextFile(
    `${dir}/danted.conf`,
    [
      "logoutput: stderr",
      `internal: 127.0.0.1 port = ${dantePort}`,
      "external: 127.0.0.1",
      "socksmethod: none",
      "clientmethod: none",
      "user.privileged: root",
      "user.unprivileged: nobody",
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
      "socks pass {",
      "  from: 127.0.0.0/8 to: 0.0.0.0/0",
      "  command: bind connect udpassociate",
      "  log: connect",
      "}",
      "socks pass { from: 0.0.0.0/0 to: 127.0.0.0/8 command: bindreply udpreply }",
      "",
    ].join("\n"),
  );
  const dante = spawnDaemon("danted", ["-f", `${dir}/danted.conf`, "-N", "1"]);
  const micro = spawnDaemon("microsocks", ["-i", "127.0.0.1", "-p", String(microPort)]);
  const [viaDante, viaDante4, viaMicro, viaChain, viaBind, viaSelf4a, selfMixed] = Array.from(
    { length: 7 },
    freePort,
  );
  let sy;
  try {
    await waitForPort(dantePort);
    await waitForPort(microPort);
    sy = await startSwitchyard({
      inbounds: [
        { type: "mixed", tag: "via-dante", listen: "127.0.0.1", listen_port: viaDante },
        { type: "mixed", tag: "via-dante4", listen: "127.0.0.1", listen_port: viaDante4 },
        { type: "mixed", tag: "via-micro", listen: "127.0.0.1", listen_port: viaMicro },
        { type: "mixed", tag: "via-chain", listen: "127.0.0.1", listen_port: viaChain },
        { type: "mixed", tag: "via-bind", listen: "127.0.0.1", listen_port: viaBind },
        { type: "mixed", tag: "via-self4a", listen: "127.0.0.1", listen_port: viaSelf4a },
        { type: "mixed", tag: "self", listen: "127.0.0.1", listen_port: selfMixed },
      ],
      outbounds: [
        { type: "direct", tag: "direct" },
        { type: "socks", tag: "dante", server: "127.0.0.1", server_port: dantePort },
        { type: "socks", tag: "dante4", server: "127.0.0.1", server_port: dantePort, version: "4" },
        { type: "socks", tag: "micro", server: "127.0.0.1", server_port: microPort },
        // microsocks reached through dante: switchyard → danted → microsocks → origin
        {
          type: "socks",
          tag: "micro-via-dante",
          server: "127.0.0.1",
          server_port: microPort,
          detour: "dante",
        },
        { type: "direct", tag: "bound", inet4_bind_address: "127.0.0.2" },
        { type: "socks", tag: "self4a", server: "127.0.0.1", server_port: selfMixed, version: "4a" },
      ],
      route: {
        rules: [
          { inbound: ["via-dante"], outbound: "dante" },
          { inbound: ["via-dante4"], outbound: "dante4" },
          { inbound: ["via-micro"], outbound: "micro" },
          { inbound: ["via-chain"], outbound: "micro-via-dante" },
          { inbound: ["via-bind"], outbound: "bound" },
          { inbound: ["via-self4a"], outbound: "self4a" },
        ],
      },
    }, [viaDante, viaDante4, viaMicro, viaChain, viaBind, viaSelf4a, selfMixed]);
    const byName = `http://localhost:${origin.port}/hello.txt`;
    await t.step("socks5 outbound → danted", async () => {
      const r = await curl(["-x", `socks5h://127.0.0.1:${viaDante}`, byName]);
      assertEquals(r.stdout, HELLO, r.stderr);
    });
    await t.step("socks4 outbound → danted (name resolved locally)", async () => {
      const r = await curl(["-x", `socks5h://127.0.0.1:${viaDante4}`, byName]);
      assertEquals(r.stdout, HELLO, r.stderr);
    });
    await t.step("socks5 outbound → microsocks", async () => {
      const r = await curl(["-x", `http://127.0.0.1:${viaMicro}`, byName]);
      assertEquals(r.stdout, HELLO, r.stderr);
    });
    await t.step("detour chains one outbound through another (→ danted → microsocks)", async () => {
      const r = await curl(["-x", `socks5h://127.0.0.1:${viaChain}`, byName]);
      assertEquals(r.stdout, HELLO, r.stderr);
      // danted logs each CONNECT; the hop to microsocks must have gone through it.
      for (let i = 0; i < 40 && !dante.output().includes(`.${microPort}`); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertStringIncludes(dante.output(), `127.0.0.1.${microPort}`);
    });
    await t.step("direct outbound binds inet4_bind_address", async () => {
      const r = await curl([
        "-x",
        `socks5h://127.0.0.1:${viaBind}`,
        `http://127.0.0.1:${origin.port}/remote`,
      ]);
      assertEquals(r.stdout, "127.0.0.2", r.stderr);
    });
    await t.step("socks outbound version 4a sends the domain to the server", async () => {
      const r = await curl(["-x", `socks5h://127.0.0.1:${viaSelf4a}`, byName]);
      assertEquals(r.stdout, HELLO, r.stderr);
      assertStringIncludes(sy!.output(), "inbound/mixed[self]: inbound connection to localhost:");
    });
    await t.step("UDP through the socks outbound's association with danted", async () => {
      const r = await socks5UdpRoundTrip(
        viaDante,
        { host: "127.0.0.1", port: echo.port },
        new TextEncoder().encode("via-dante"),
      );
      assertEquals(new TextDecoder().decode(r.data), "via-dante");
    });
    await t.step("microsocks refuses UDP ASSOCIATE: the client gets an error, not a hang", async () => {
      let failed = false;
      try {
        await socks5UdpRoundTrip(
          viaMicro,
          { host: "127.0.0.1", port: echo.port },
          new TextEncoder().encode("x"),
        );
      } catch {
        failed = true;
      }
      assert(failed, "UDP through microsocks must fail");
    });
  } finally {
    await sy?.stop();
    await dante.stop("SIGTERM");
    await micro.stop("SIGTERM");
    echo.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
