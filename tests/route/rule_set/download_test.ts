/** Remote rule-set downloads through an outbound's dialer (`download_detour`). */
import { assert, assertEquals, assertRejects } from "../../_util/assert.ts";
import { run } from "../../_util/mod.ts";
import type { Dialer, DialOptions, PacketConn, Socksaddr, Stream } from "../../../src/adapter/types.ts";
import { SystemDialer } from "../../../src/common/dialer.ts";
import { downloadVia } from "../../../src/route/rule_set/download.ts";
import { RuleSet, ruleSetOptionsSchema } from "../../../src/route/rule_set/provider.ts";
import { writeSrs } from "../../../src/route/rule_set/srs.ts";

/** A dialer that records where it was asked to connect. */
class RecordingDialer implements Dialer {
  readonly dials: Socksaddr[] = [];
  readonly #inner = new SystemDialer();
  dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    this.dials.push(destination);
    return this.#inner.dial(destination, options);
  }
  listenPacket(): Promise<PacketConn> {
    return Promise.reject(new Error("unused"));
  }
}

const BODY = writeSrs({ version: 2, rules: [{ domain_suffix: ["remote.test"] }] });

function serve(): { port: number; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/set.srs") return new Response(new Uint8Array(BODY));
    if (path === "/moved") return new Response(null, { status: 302, headers: { location: "/set.srs" } });
    if (path === "/loop") return new Response(null, { status: 301, headers: { location: "/loop" } });
    if (path === "/big") return new Response(new Uint8Array(4096));
    return new Response("no", { status: 404 });
  });
  return { port: server.addr.port, close: () => server.shutdown() };
}

Deno.test("downloadVia GETs through the dialer, follows redirects and reports HTTP errors", async () => {
  const srv = serve();
  const base = `http://127.0.0.1:${srv.port}`;
  try {
    const d = new RecordingDialer();
    assertEquals(await downloadVia(d, `${base}/set.srs`), BODY);
    assertEquals(await downloadVia(d, `${base}/moved`), BODY);
    assertEquals(d.dials, [
      { host: "127.0.0.1", port: srv.port },
      { host: "127.0.0.1", port: srv.port },
      { host: "127.0.0.1", port: srv.port },
    ]);
    await assertRejects(() => downloadVia(d, `${base}/missing.srs`), Error, "HTTP 404");
    await assertRejects(() => downloadVia(d, `${base}/loop`), Error, "more than 10 redirects");
    await assertRejects(
      () => downloadVia(d, `${base}/big`, { maxBytes: 1000 }),
      Error,
      "larger than 1000 bytes",
    );
    await assertRejects(
      () => downloadVia(d, "ftp://127.0.0.1/x.srs"),
      Error,
      'unsupported URL scheme "ftp:"',
    );
  } finally {
    await srv.close();
  }
});

Deno.test("downloadVia verifies the server certificate over https", async () => {
  const dir = await Deno.makeTempDir();
  const gen = await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/cert.pem`,
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
  ]);
  assertEquals(gen.code, 0, gen.stderr);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
    onListen() {},
  }, () => new Response("unreachable"));
  try {
    const d = new RecordingDialer();
    const e = await assertRejects(
      () => downloadVia(d, `https://localhost:${server.addr.port}/set.srs`),
      Error,
    );
    assert(/certificate/i.test(e.message), e.message);
    assertEquals(d.dials, [{ host: "localhost", port: server.addr.port }]);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a remote RuleSet downloads through the supplied downloader with its detour", async () => {
  const srv = serve();
  try {
    const seen: (string | undefined)[] = [];
    const d = new RecordingDialer();
    const rs = new RuleSet(
      ruleSetOptionsSchema.parse({
        tag: "r",
        type: "remote",
        url: `http://127.0.0.1:${srv.port}/set.srs`,
        download_detour: "proxy",
      }),
      {
        download: (url, detour, signal) => {
          seen.push(detour);
          return downloadVia(d, url, { signal });
        },
      },
    );
    await rs.start();
    await rs.close();
    assertEquals(seen, ["proxy"]);
    assertEquals(d.dials.length, 1);
  } finally {
    await srv.close();
  }
});
