// Interop with ngtcp2/nghttp3 (Debian ngtcp2-client, ngtcp2-server): Switchyard's client against
// gtlsserver and gtlsclient against Switchyard's server — small and 100 MiB GETs, 100 concurrent
// requests, and header sets that go through the QPACK dynamic table in both directions.
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../_util/assert.ts";
import { testCerts } from "./_certs.ts";
import {
  fileSha256,
  havePeer,
  NGTCP2_CLIENT,
  NGTCP2_SERVER,
  runNgtcp2Client,
  startNgtcp2Server,
  writeTestFile,
} from "./_ngtcp2.ts";
import { H3Client } from "../../src/http3/client.ts";
import { serveH3 } from "../../src/http3/server.ts";

const BIG = 100 * 1024 * 1024;
const HAVE_SERVER = havePeer(NGTCP2_SERVER, "gtlsserver", "ngtcp2-server");
const HAVE_CLIENT = havePeer(NGTCP2_CLIENT, "gtlsclient", "ngtcp2-client");
const base = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();
const htdocs = await Deno.makeTempDir({ prefix: "sy-h3-htdocs-" });
await Deno.writeTextFile(`${htdocs}/index.html`, "<html><body>switchyard interop</body></html>\n");
let bigHash: Promise<string> | undefined;
const big = () => bigHash ??= writeTestFile(`${htdocs}/big.bin`, BIG);

Deno.test({
  name: "H3Client ← gtlsserver: small GET, 404, 100 MiB GET and 100 concurrent GETs",
  ignore: !HAVE_SERVER,
  ...base,
  fn: async (t) => {
    const expectedHash = await big();
    const server = await startNgtcp2Server(htdocs, certs.keyFile, certs.certFile, certs.caPem);
    const client = new H3Client({ caCerts: [certs.caPem], serverName: "localhost" });
    const url = `https://127.0.0.1:${server.port}`;
    try {
      await t.step("small GET", async () => {
        const res = await client.fetch(`${url}/index.html`);
        assertEquals(res.status, 200);
        assertEquals(res.headers.get("content-type"), "text/html");
        assertEquals(res.headers.get("server"), "nghttp3/ngtcp2 server");
        assertEquals(await res.text(), "<html><body>switchyard interop</body></html>\n");
      });
      await t.step("404", async () => {
        const res = await client.fetch(`${url}/missing`);
        assertEquals(res.status, 404);
        await res.body?.cancel();
      });
      await t.step("100 MiB GET", async () => {
        const res = await client.fetch(`${url}/big.bin`);
        assertEquals(res.status, 200);
        const hash = createHash("sha256");
        let n = 0;
        for await (const chunk of res.body!) {
          hash.update(chunk);
          n += chunk.length;
        }
        assertEquals(n, BIG);
        assertEquals(hash.digest("hex"), expectedHash);
      });
      await t.step("100 concurrent GETs on one connection", async () => {
        const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
          const res = await client.fetch(`${url}/index.html?n=${i}`);
          return [res.status, (await res.text()).length];
        }));
        assertEquals(results, Array.from({ length: 100 }, () => [200, 45]));
        assertEquals((await client.stats()).length, 1);
      });
    } finally {
      await client.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "H3Client → gtlsserver: header sets through the QPACK dynamic table decode at nghttp3",
  ignore: !HAVE_SERVER,
  ...base,
  fn: async () => {
    const server = await startNgtcp2Server(htdocs, certs.keyFile, certs.certFile, certs.caPem, true);
    const client = new H3Client({ caCerts: [certs.caPem], serverName: "localhost" });
    const url = `https://127.0.0.1:${server.port}`;
    const sent: Record<string, string>[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const headers: Record<string, string> = {
          "user-agent": "switchyard-interop/1.0",
          "x-session": `session-${i % 3}-abcdefghijklmnopqrstuvwxyz`,
          "x-request-id": `req-${i}`,
          "accept-language": i % 2 ? "en-US,en;q=0.9" : "de-DE,de;q=0.8",
          "x-long": "v".repeat(100 + (i % 5)),
        };
        sent.push(headers);
        const res = await client.fetch(`${url}/index.html?q=${i % 4}`, { headers });
        await res.text();
      }
      const [stats] = await client.stats();
      // Our encoder inserted entries and nghttp3 acknowledged them.
      assert(stats.encoderInserts > 10, JSON.stringify(stats));
      assert(stats.encoderAcknowledged > 10, JSON.stringify(stats));
      // nghttp3's encoder also put response fields into our decoder's table.
      assert(stats.decoderInserts > 0, JSON.stringify(stats));
    } finally {
      await client.close();
      await server.stop();
    }
    // gtlsserver printed every request header it decoded: "http: stream 0xN [name: value]".
    const lines = server.output().split("\n");
    const byStream = new Map<number, Record<string, string>>();
    for (const line of lines) {
      const m = line.match(/^http: stream 0x([0-9a-f]+) \[([^:]+|:[a-z]+): (.*)\]$/);
      if (!m) continue;
      const id = parseInt(m[1], 16);
      if (!byStream.has(id)) byStream.set(id, {});
      byStream.get(id)![m[2]] = m[3];
    }
    for (let i = 0; i < sent.length; i++) {
      const got = byStream.get(i * 4);
      assert(got, `stream ${i * 4} missing in the server log`);
      for (const [k, v] of Object.entries(sent[i])) assertEquals(got[k], v, `stream ${i * 4} ${k}`);
      assertEquals(got[":path"], `/index.html?q=${i % 4}`);
    }
  },
});

function startServer(onRequest?: (req: Request) => void) {
  let stats = { encoderInserts: 0, encoderAcknowledged: 0, decoderInserts: 0 };
  const server = serveH3(
    { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
    async (req, info) => {
      onRequest?.(req);
      stats = info.qpackStats();
      const path = new URL(req.url).pathname;
      if (path === "/big.bin") {
        const f = await Deno.open(`${htdocs}/big.bin`);
        return new Response(f.readable, { headers: { "content-length": String(BIG) } });
      }
      return new Response(`hello from switchyard ${path}\n`, {
        headers: {
          "content-type": "text/plain",
          "x-served-by": "switchyard-h3-interop-server",
          "cache-control": "private, max-age=60",
          "x-path": path,
        },
      });
    },
  );
  return { server, stats: () => stats };
}

Deno.test({
  name: "gtlsclient ← serveH3(): small GET with dynamic-table response headers, 100 MiB GET, 100 concurrent",
  ignore: !HAVE_CLIENT,
  ...base,
  fn: async (t) => {
    const expectedHash = await big();
    let requests = 0;
    const { server, stats } = startServer(() => requests++);
    const port = server.addr.port;
    try {
      await t.step("small GETs", async () => {
        const r = await runNgtcp2Client(port, [`https://localhost:${port}/a`, `https://localhost:${port}/b`]);
        assertEquals(r.code, 0, r.output);
        for (const p of ["/a", "/b"]) {
          assert(r.output.includes(`[x-path: ${p}]`), r.output);
        }
        assert(r.output.includes("[:status: 200]"));
        assert(r.output.includes("[x-served-by: switchyard-h3-interop-server]"));
        // gtlsclient hex-dumps bodies 16 bytes a line: "hello from switc" / "hyard /b.".
        assert(r.output.includes("|hyard /a.|") && r.output.includes("|hyard /b.|"), r.output);
        // The second response's headers went through the dynamic table.
        assert(stats().encoderInserts > 0, JSON.stringify(stats()));
      });
      await t.step("100 MiB GET", async () => {
        const dir = await Deno.makeTempDir({ prefix: "sy-h3-dl-" });
        const r = await runNgtcp2Client(port, [`https://localhost:${port}/big.bin`], [
          "-q",
          `--download=${dir}`,
        ]);
        assertEquals(r.code, 0, r.output);
        assertEquals((await Deno.stat(`${dir}/big.bin`)).size, BIG);
        assertEquals(await fileSha256(`${dir}/big.bin`), expectedHash);
        await Deno.remove(dir, { recursive: true });
      });
      await t.step("100 concurrent requests", async () => {
        const before = requests;
        const r = await runNgtcp2Client(port, [`https://localhost:${port}/c`], ["-n", "100"]);
        assertEquals(r.code, 0, r.output);
        assertEquals(requests - before, 100);
        // Body bytes per stream ("http: stream 0xN body K bytes", possibly in several pieces).
        const bodyBytes = [...r.output.matchAll(/body (\d+) bytes/g)].reduce((n, m) => n + Number(m[1]), 0);
        assertEquals(bodyBytes, 100 * "hello from switchyard /c\n".length);
        assertEquals(r.output.split("closed with error code 256").length - 1, 100); // H3_NO_ERROR
      });
    } finally {
      await server.shutdown();
    }
  },
});
