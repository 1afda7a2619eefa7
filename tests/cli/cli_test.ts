/**
 * CLI behaviour: exit codes and messages of check/run on bad configs, format/merge, generate,
 * version, and the run lifecycle (SIGHUP reload keeps established connections; SIGTERM is
 * graceful).
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { cli, curl, freePort, HELLO, startOrigin, startSwitchyard, waitForPort } from "../_util/mod.ts";

async function tempConfig(config: unknown): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-cli-" });
  const path = `${dir}/config.json`;
  await Deno.writeTextFile(path, typeof config === "string" ? config : JSON.stringify(config));
  return { dir, path };
}

Deno.test("check exits 0 on a valid config and 1 with the JSON path on a bad one; run refuses to start", async () => {
  const good = await tempConfig({ inbounds: [{ type: "mixed", listen: "127.0.0.1", listen_port: 2080 }] });
  const bad = await tempConfig({ inbounds: [{ type: "mixed", listen: "127.0.0.1", listen_port: 70000 }] });
  const broken = await tempConfig('{"inbounds": [}');
  try {
    const ok = await cli(["check", "-c", good.path]);
    assertEquals([ok.code, ok.stdout, ok.stderr], [0, "", ""]);
    const r = await cli(["check", "-c", bad.path]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "inbounds[0].listen_port: expected integer 0..65535");
    const run = await cli(["run", "-c", bad.path]);
    assertEquals(run.code, 1);
    assertStringIncludes(run.stderr, "inbounds[0].listen_port: expected integer 0..65535");
    const j = await cli(["check", "-c", broken.path]);
    assertEquals(j.code, 1);
    assertStringIncludes(j.stderr, `Cannot decode config "${broken.path}"`);
    const missing = await cli(["check", "-c", `${good.dir}/nope.json`]);
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, "Cannot read config");
  } finally {
    for (const d of [good, bad, broken]) await Deno.remove(d.dir, { recursive: true });
  }
});

Deno.test("log.output writes sing-box formatted lines with timestamps to the file", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "switchyard-log-" });
  const sy = await startSwitchyard({
    log: { level: "info", timestamp: true, output: `${dir}/box.log` },
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
  }, [port]);
  try {
    await sy.stop();
    const text = await Deno.readTextFile(`${dir}/box.log`);
    assert(
      /^[+-]\d{4} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} INFO inbound\/mixed\[in\]: tcp server started at 127\.0\.0\.1:\d+$/m
        .test(text),
      text,
    );
    assertStringIncludes(text, "INFO switchyard started (");
    assertEquals(
      sy.output().includes("switchyard started"),
      false,
      "nothing on stderr when output is a file",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run reports a busy port with the stage and inbound, and exits 1", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const cfg = await tempConfig({
    inbounds: [{ type: "socks", tag: "s", listen: "127.0.0.1", listen_port: port }],
  });
  try {
    const r = await cli(["run", "-c", cfg.path]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "start inbound/socks[s]");
  } finally {
    l.close();
    await Deno.remove(cfg.dir, { recursive: true });
  }
});

Deno.test("-c is repeatable and merges, -C reads a directory, stdin is accepted; merge and format write JSON", async () => {
  const a = await tempConfig({
    log: { level: "warn" },
    inbounds: [{ type: "mixed", tag: "a", listen_port: 1 }],
  });
  const dir = await Deno.makeTempDir({ prefix: "switchyard-cli-dir-" });
  await Deno.writeTextFile(
    `${dir}/10-in.json`,
    JSON.stringify({ inbounds: [{ type: "socks", tag: "b", listen_port: 2 }] }),
  );
  await Deno.writeTextFile(
    `${dir}/20-out.json`,
    JSON.stringify({ outbounds: [{ type: "block", tag: "x" }] }),
  );
  await Deno.writeTextFile(`${dir}/ignored.txt`, "not json");
  try {
    const out = `${a.dir}/merged.json`;
    const m = await cli(["merge", out, "-c", a.path, "-C", dir]);
    assertEquals(m.code, 0, m.stderr);
    const merged = JSON.parse(await Deno.readTextFile(out));
    assertEquals(merged.inbounds.map((i: { tag: string }) => i.tag), ["a", "b"]);
    assertEquals(merged.outbounds, [{ type: "block", tag: "x" }]);
    const viaStdin = await cli(["check", "-c", "stdin"], {
      stdin: JSON.stringify({ inbounds: { type: "mixed" } }),
    });
    assertEquals(viaStdin.code, 0, viaStdin.stderr);
    const f = await cli(["format", "-c", a.path]);
    assertEquals(f.stdout, JSON.stringify(JSON.parse(await Deno.readTextFile(a.path)), null, 2) + "\n");
    const w = await cli(["format", "-w", "-c", a.path]);
    assertEquals(w.code, 0);
    assertEquals(await Deno.readTextFile(a.path), f.stdout);
    await Deno.writeTextFile(`${dir}/30-bad.json`, JSON.stringify({ route: { final: 5 } }));
    const badFormat = await cli(["format", "-c", a.path, "-C", dir]);
    assertEquals(badFormat.code, 1);
    assertStringIncludes(badFormat.stderr, "route.final: expected string");
  } finally {
    await Deno.remove(a.dir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate uuid, rand, tls-keypair, wg-keypair and version print what sing-box's do", async () => {
  const u = await cli(["generate", "uuid"]);
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/.test(u.stdout), u.stdout);
  assert(/^[0-9a-f]{32}\n$/.test((await cli(["generate", "rand", "16", "--hex"])).stdout));
  assertEquals(atob((await cli(["generate", "rand", "24", "--base64"])).stdout.trim()).length, 24);
  const bad = await cli(["generate", "rand", "zero"]);
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.stderr, "expected a positive integer");
  const tls = await cli(["generate", "tls-keypair", "example.test", "-m", "1"]);
  assertStringIncludes(tls.stdout, "-----BEGIN PRIVATE KEY-----");
  assertStringIncludes(tls.stdout, "-----BEGIN CERTIFICATE-----");
  const wg = await cli(["generate", "wg-keypair"]);
  assert(/^PrivateKey: [A-Za-z0-9+/]{43}=\nPublicKey: [A-Za-z0-9+/]{43}=\n$/.test(wg.stdout), wg.stdout);
  assertEquals((await cli(["version", "-n"])).stdout.trim().split(".").length, 3);
  const unknown = await cli(["bogus"]);
  assertEquals(unknown.code, 1);
});

Deno.test("the TLS key pair from generate serves a working http inbound with TLS and an http outbound with TLS to it", async () => {
  const origin = startOrigin();
  const dir = await Deno.makeTempDir({ prefix: "switchyard-tls-" });
  const tls = await cli(["generate", "tls-keypair", "localhost"]);
  const [key, cert] = tls.stdout.split(/(?=-----BEGIN CERTIFICATE-----)/);
  await Deno.writeTextFile(`${dir}/key.pem`, key!);
  await Deno.writeTextFile(`${dir}/cert.pem`, cert!);
  const [https, front] = [freePort(), freePort()];
  const sy = await startSwitchyard({
    inbounds: [
      {
        type: "http",
        tag: "https-in",
        listen: "127.0.0.1",
        listen_port: https,
        users: [{ username: "a", password: "b" }],
        tls: { enabled: true, certificate_path: `${dir}/cert.pem`, key_path: `${dir}/key.pem` },
      },
      { type: "mixed", tag: "front", listen: "127.0.0.1", listen_port: front },
    ],
    outbounds: [
      { type: "direct", tag: "direct" },
      {
        type: "http",
        tag: "upstream",
        server: "127.0.0.1",
        server_port: https,
        username: "a",
        password: "b",
        tls: { enabled: true, server_name: "localhost", certificate_path: `${dir}/cert.pem` },
      },
    ],
    route: { rules: [{ inbound: ["front"], outbound: "upstream" }], final: "direct" },
  }, [https, front]);
  try {
    const r = await curl(["-x", `socks5h://127.0.0.1:${front}`, `http://localhost:${origin.port}/hello.txt`]);
    assertEquals(r.stdout, HELLO, r.stderr + sy.output().slice(-1500));
    const direct = await curl([
      "--proxy-cacert",
      `${dir}/cert.pem`,
      "-x",
      `https://a:b@localhost:${https}`,
      `http://127.0.0.1:${origin.port}/hello.txt`,
    ]);
    assertEquals(direct.stdout, HELLO, direct.stderr);
  } finally {
    await sy.stop();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

async function openTunnel(proxyPort: number, target: number): Promise<Deno.Conn> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: proxyPort });
  await c.write(new TextEncoder().encode(`CONNECT 127.0.0.1:${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
  const buf = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await c.read(buf);
    if (n === null) throw new Error("tunnel closed");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  assertStringIncludes(head, "200");
  return c;
}

function startTcpEcho(): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) {
      (async () => {
        const b = new Uint8Array(4096);
        try {
          for (;;) {
            const n = await c.read(b);
            if (n === null) break;
            await c.write(b.subarray(0, n));
          }
        } catch { /* reset */ }
        try {
          c.close();
        } catch { /* closed */ }
      })();
    }
  })();
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

async function echoOnce(c: Deno.Conn, text: string): Promise<string> {
  await c.write(new TextEncoder().encode(text));
  const b = new Uint8Array(256);
  const n = await c.read(b);
  return n === null ? "<eof>" : new TextDecoder().decode(b.subarray(0, n));
}

Deno.test("SIGHUP reloads the config without dropping an established connection; SIGTERM closes gracefully", async () => {
  const origin = startOrigin();
  const echo = startTcpEcho();
  const port = freePort();
  const config = (blocked: string) => ({
    inbounds: [{ type: "mixed", tag: "in", listen: "127.0.0.1", listen_port: port }],
    outbounds: [{ type: "direct", tag: "direct" }, { type: "block", tag: "block" }],
    route: { rules: [{ domain: [blocked], outbound: "block" }] },
  });
  const sy = await startSwitchyard(config("localhost"), [port]);
  const url = `http://localhost:${origin.port}/hello.txt`;
  try {
    const before = await curl(["-x", `socks5h://127.0.0.1:${port}`, url]);
    assert(before.code !== 0, "localhost is blocked by the first config");
    const tunnel = await openTunnel(port, echo.port);
    assertEquals(await echoOnce(tunnel, "one"), "one");
    // An invalid config is refused and the old one keeps serving.
    await Deno.writeTextFile(
      sy.configPath,
      JSON.stringify({ inbounds: [{ type: "mixed", listen_port: -1 }] }),
    );
    sy.child.kill("SIGHUP");
    await new Promise((r) => setTimeout(r, 700));
    assertStringIncludes(sy.output(), "inbounds[0].listen_port");
    assertEquals(await echoOnce(tunnel, "two"), "two");
    // A valid new config applies to new connections; the tunnel survives.
    await Deno.writeTextFile(sy.configPath, JSON.stringify(config("other.test")));
    sy.child.kill("SIGHUP");
    for (let i = 0; i < 100 && !sy.output().includes("configuration reloaded"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitForPort(port);
    const after = await curl(["-x", `socks5h://127.0.0.1:${port}`, url]);
    assertEquals(after.stdout, HELLO, after.stderr + sy.output().slice(-1500));
    assertEquals(await echoOnce(tunnel, "three"), "three");
    // SIGTERM: the listener stops at once; the live tunnel is closed within the grace period; exit 0.
    const t0 = performance.now();
    const code = await sy.stop("SIGTERM");
    assertEquals(code, 0);
    assert(performance.now() - t0 < 8000, "shutdown waits at most the grace period");
    assertEquals(await echoOnce(tunnel, "four").catch(() => "<eof>"), "<eof>");
    tunnel.close();
    const refused = await Deno.connect({ hostname: "127.0.0.1", port }).then(
      (c) => (c.close(), false),
      () => true,
    );
    assert(refused, "listener is closed after shutdown");
  } finally {
    await sy.stop();
    echo.close();
    await origin.close();
  }
});
