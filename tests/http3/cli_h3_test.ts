// `switchyard h3 get` and `switchyard h3 serve` as a user runs them: separate processes, files on
// disk, exit codes.
import { assert, assertEquals } from "../_util/assert.ts";
import { testCerts } from "./_certs.ts";
import { freeUdpPort } from "./_ngtcp2.ts";
import { serveH3 } from "../../src/http3/server.ts";
import { parseHeaderArg, parseHostPort } from "../../src/cli/h3.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60000),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("parseHeaderArg() and parseHostPort() parse the CLI forms", () => {
  assertEquals(parseHeaderArg("accept: text/html"), ["accept", "text/html"]);
  assertEquals(parseHeaderArg("x:a:b"), ["x", "a:b"]);
  assertEquals(parseHostPort("127.0.0.1:4433"), { hostname: "127.0.0.1", port: 4433 });
  assertEquals(parseHostPort("[::1]:443"), { hostname: "::1", port: 443 });
  assertEquals(parseHostPort(":8443"), { hostname: "0.0.0.0", port: 8443 });
  for (const bad of ["4433", "host:99999", "h:x"]) {
    let threw = false;
    try {
      parseHostPort(bad);
    } catch {
      threw = true;
    }
    assert(threw, bad);
  }
});

Deno.test({
  name: "h3 serve DIR and h3 get: files, -i, -o, 404 with -f, --insecure, untrusted certificates",
  ...opts,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sy-h3-cli-" });
    await Deno.mkdir(`${dir}/www/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/www/index.html`, "<h1>home</h1>\n");
    await Deno.writeTextFile(`${dir}/www/sub/data.json`, '{"ok":true}');
    await Deno.writeTextFile(`${dir}/secret.txt`, "outside the root");
    const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    await Deno.writeFile(`${dir}/www/blob.bin`, blob);
    const port = freeUdpPort();
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-net",
        MAIN,
        "h3",
        "serve",
        `${dir}/www`,
        "--cert",
        certs.certFile,
        "--key",
        certs.keyFile,
        "--listen",
        `127.0.0.1:${port}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const logText = (async () => {
      let s = "";
      for await (const c of server.stderr) s += new TextDecoder().decode(c);
      return s;
    })();
    server.stdout.cancel();
    const base = `https://localhost:${port}`;
    try {
      // Wait until it serves.
      let first;
      for (let i = 0; i < 60; i++) {
        first = await cli(["h3", "get", "--cacert", certs.caFile, "-m", "2", `${base}/`]);
        if (first.code === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assertEquals(first!.stdout, "<h1>home</h1>\n", first!.stderr);

      const inc = await cli(["h3", "get", "--cacert", certs.caFile, "-i", `${base}/sub/data.json`]);
      assert(inc.stdout.startsWith("HTTP/3 200\r\n"), inc.stdout);
      assert(inc.stdout.includes("content-type: application/json\r\n"));
      assert(inc.stdout.endsWith('\r\n\r\n{"ok":true}'));

      const out = `${dir}/download.bin`;
      const dl = await cli(["h3", "get", "--cacert", certs.caFile, "-o", out, `${base}/blob.bin`]);
      assertEquals(dl.code, 0, dl.stderr);
      assertEquals(await Deno.readFile(out), blob);

      const missing = await cli(["h3", "get", "--cacert", certs.caFile, "-f", `${base}/nope`]);
      assertEquals(missing.code, 22);
      const escape = await cli(["h3", "get", "--cacert", certs.caFile, `${base}/../secret.txt`]);
      assert(!escape.stdout.includes("outside the root"));

      const untrusted = await cli(["h3", "get", "-m", "5", `${base}/`]);
      assertEquals(untrusted.code, 1);
      assert(untrusted.stderr.includes("--cacert"), untrusted.stderr);
      const insecure = await cli(["h3", "get", "--insecure", `${base}/`]);
      assertEquals([insecure.code, insecure.stdout], [0, "<h1>home</h1>\n"]);
      assert(!insecure.stderr.includes("DANGER"), insecure.stderr);
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
    const log = await logText;
    assert(log.includes("GET /sub/data.json 200 11"), log);
    assert(log.includes("GET /nope 404"), log);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "h3 get sends -H headers, -X and -d bodies",
  ...opts,
  fn: async () => {
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      async (req) =>
        new Response(
          `${req.method} ${req.headers.get("x-one")} ${req.headers.get("x-two")} ${await req.text()}`,
        ),
    );
    const url = `https://localhost:${server.addr.port}/`;
    const r = await cli([
      "h3",
      "get",
      "--cacert",
      certs.caFile,
      "-H",
      "x-one: 1",
      "-H",
      "X-Two: two",
      "-d",
      "payload",
      url,
    ]);
    assertEquals(r.stdout, "POST 1 two payload");
    const put = await cli(["h3", "get", "--cacert", certs.caFile, "-X", "PUT", "-d", "x", url]);
    assertEquals(put.stdout, "PUT null null x");
    const bad = await cli(["h3", "get", "http://localhost/"]);
    assertEquals(bad.code, 1);
    assert(bad.stderr.includes("only https: URLs"));
    const badHeader = await cli(["h3", "get", "-H", "nocolon", url]);
    assert(badHeader.code !== 0);
    await server.shutdown();
  },
});

Deno.test({
  name: "h3 serve rejects a missing directory and missing --cert",
  ...opts,
  fn: async () => {
    const r = await cli([
      "h3",
      "serve",
      "/definitely/not/here",
      "--cert",
      certs.certFile,
      "--key",
      certs.keyFile,
      "--listen",
      "127.0.0.1:0",
    ]);
    assertEquals(r.code, 1);
    assert(r.stderr.includes("does not exist"), r.stderr);
    const r2 = await cli(["h3", "serve", "."]);
    assert(r2.code !== 0);
    assert(r2.stderr.includes("--cert"), r2.stderr);
  },
});
