// Switchyard's HTTP/3 client against its own server: bodies both ways, trailers, a hono app,
// server push, extended CONNECT, graceful GOAWAY shutdown, limits and aborts.
import { Hono } from "hono";
import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { testCerts } from "./_certs.ts";
import { H3Client, h3fetch, responseTrailers } from "../../src/http3/client.ts";
import { serveH3, type ServeH3Options, withTrailers } from "../../src/http3/server.ts";
import { H3_ERROR, H3Error } from "../../src/http3/errors.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();

function serve(handler: Parameters<typeof serveH3>[1], extra: Partial<ServeH3Options> = {}) {
  const server = serveH3(
    { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem, ...extra },
    handler,
  );
  const client = new H3Client({ caCerts: [certs.caPem], maxPushes: 4, ...extra.qpack ? {} : {} });
  const url = `https://localhost:${server.addr.port}`;
  return {
    server,
    client,
    url,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.shutdown();
    },
  };
}

Deno.test({
  name: "H3Client and serveH3() exchange request and response bodies and trailers",
  ...opts,
  fn: async () => {
    await using t = serve(async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      let sum = 0;
      for (const b of body) sum = (sum + b) % 65521;
      return withTrailers(
        new Response(body, { headers: { "x-sum": String(sum), "x-method": req.method } }),
        () => ({ "x-checksum": String(sum), "x-length": String(body.length) }),
      );
    });
    const payload = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const res = await t.client.fetch(`${t.url}/echo`, { method: "POST", body: payload });
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("x-method"), "POST");
    const back = new Uint8Array(await res.arrayBuffer());
    assertEquals(back.length, payload.length);
    assert(back.every((b, i) => b === payload[i]));
    const trailers = await responseTrailers(res);
    assertEquals(trailers.get("x-checksum"), res.headers.get("x-sum"));
    assertEquals(trailers.get("x-length"), String(payload.length));
    // A streamed upload (no content-length).
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1000).fill(i));
        c.close();
      },
    });
    const r2 = await t.client.fetch(
      `${t.url}/echo`,
      { method: "PUT", body: streamed, duplex: "half" } as RequestInit,
    );
    assertEquals((await r2.arrayBuffer()).byteLength, 10000);
  },
});

Deno.test({
  name: "serveH3() serves a hono app, with HEAD, 204 and 304 bodies suppressed",
  ...opts,
  fn: async () => {
    const app = new Hono();
    app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name"), ua: c.req.header("user-agent") }));
    app.post("/form", async (c) => c.text(`got ${(await c.req.parseBody())["a"]}`));
    app.get("/empty", (c) => c.body(null, 204));
    app.get("/cached", () => new Response(null, { status: 304, headers: { etag: '"v1"' } }));
    await using t = serve((req) => app.fetch(req));
    const r1 = await t.client.fetch(`${t.url}/hello/h3`, { headers: { "user-agent": "sy" } });
    assertEquals(await r1.json(), { hello: "h3", ua: "sy" });
    const r2 = await t.client.fetch(`${t.url}/form`, {
      method: "POST",
      body: new URLSearchParams({ a: "1 2" }),
    });
    assertEquals(await r2.text(), "got 1 2");
    const r3 = await t.client.fetch(`${t.url}/hello/x`, { method: "HEAD" });
    assertEquals([r3.status, r3.body], [200, null]);
    assertEquals((await t.client.fetch(`${t.url}/empty`)).status, 204);
    const r5 = await t.client.fetch(`${t.url}/cached`);
    assertEquals([r5.status, r5.body, r5.headers.get("etag")], [304, null, '"v1"']);
    assertEquals((await t.client.fetch(`${t.url}/nope`)).status, 404);
  },
});

Deno.test({
  name: "serveH3() pushes responses the client allowed (PUSH_PROMISE, push streams, MAX_PUSH_ID)",
  ...opts,
  fn: async () => {
    const pushed: Promise<[string, string]>[] = [];
    const accepted: boolean[] = [];
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      async (req, info) => {
        if (new URL(req.url).pathname === "/page") {
          accepted.push(
            await info.push(
              "/style.css",
              new Response("body{}", { headers: { "content-type": "text/css" } }),
            ),
          );
          accepted.push(await info.push("/app.js", new Response("run()")));
          accepted.push(await info.push("/third.js", new Response("over the limit")));
        }
        return new Response("<html>");
      },
    );
    const client = new H3Client({
      caCerts: [certs.caPem],
      maxPushes: 2,
      onPush: (req, res) => pushed.push(res.then(async (r) => [new URL(req.url).pathname, await r.text()])),
    });
    const res = await client.fetch(`https://localhost:${server.addr.port}/page`);
    assertEquals(await res.text(), "<html>");
    for (let i = 0; i < 50 && pushed.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assertEquals((await Promise.all(pushed)).sort(), [["/app.js", "run()"], ["/style.css", "body{}"]]);
    assertEquals(accepted, [true, true, false]); // MAX_PUSH_ID 1 allows push IDs 0 and 1
    // A client that allows no pushes gets none.
    const plain = new H3Client({ caCerts: [certs.caPem] });
    let pushesRefused = 0;
    const s2 = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      async (_req, info) => {
        if (!await info.push("/x", new Response("x"))) pushesRefused++;
        return new Response("ok");
      },
    );
    assertEquals(await (await plain.fetch(`https://localhost:${s2.addr.port}/`)).text(), "ok");
    assertEquals(pushesRefused, 1);
    await Promise.all([client.close(), plain.close()]);
    await Promise.all([server.shutdown(), s2.shutdown()]);
  },
});

Deno.test({
  name: "H3Client.connect() opens an extended CONNECT tunnel (RFC 9220) when the server enables it",
  ...opts,
  fn: async () => {
    const server = serveH3({
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
      enableConnectProtocol: true,
      onConnect: async (c) => {
        if (c.head.protocol !== "echo" || c.head.path !== "/tunnel") return await c.respond(400);
        await c.respond(200, { "x-protocol": c.head.protocol });
        await c.readable.pipeTo(c.writable);
      },
    }, () => new Response("not a tunnel"));
    const client = new H3Client({ caCerts: [certs.caPem] });
    const tunnel = await client.connect(`https://localhost:${server.addr.port}/tunnel`, { protocol: "echo" });
    assertEquals([tunnel.status, tunnel.headers.get("x-protocol")], [200, "echo"]);
    const w = tunnel.writable.getWriter();
    await w.write(new TextEncoder().encode("ping "));
    await w.write(new TextEncoder().encode("pong"));
    await w.close();
    assertEquals(await new Response(tunnel.readable).text(), "ping pong");
    const bad = await client.connect(`https://localhost:${server.addr.port}/other`, { protocol: "echo" });
    assertEquals(bad.status, 400);
    // Without SETTINGS_ENABLE_CONNECT_PROTOCOL the client refuses to try.
    const s2 = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      () => new Response(""),
    );
    await assertRejects(
      () => client.connect(`https://localhost:${s2.addr.port}/t`, { protocol: "echo" }),
      TypeError,
    );
    await client.close();
    await Promise.all([server.shutdown(), s2.shutdown()]);
  },
});

Deno.test({
  name: "serveH3().shutdown() sends GOAWAY and lets in-flight requests finish",
  ...opts,
  fn: async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      async (req) => {
        if (new URL(req.url).pathname === "/slow") await gate;
        return new Response("done");
      },
    );
    const client = new H3Client({ caCerts: [certs.caPem] });
    const url = `https://localhost:${server.addr.port}`;
    assertEquals(await (await client.fetch(`${url}/fast`)).text(), "done");
    const slow = client.fetch(`${url}/slow`);
    await new Promise((r) => setTimeout(r, 50));
    let finished = false;
    const stopping = server.shutdown().then(() => finished = true);
    await new Promise((r) => setTimeout(r, 100));
    assertEquals(finished, false); // still waiting for /slow
    release();
    assertEquals(await (await slow).text(), "done");
    await stopping;
    assertEquals((await client.stats()).length, 0); // the client dropped the drained connection
    await client.close();
  },
});

Deno.test({
  name: "SETTINGS_MAX_FIELD_SECTION_SIZE: serveH3() answers 431, H3Client refuses once it knows the limit",
  ...opts,
  fn: async () => {
    await using t = serve(() => new Response("ok"), { maxFieldSectionSize: 1024 });
    // Before the server's SETTINGS arrive the client cannot know the limit: the server says 431.
    assertEquals((await t.client.fetch(`${t.url}/`, { headers: { "x-big": "a".repeat(2000) } })).status, 431);
    assertEquals((await t.client.fetch(`${t.url}/`)).status, 200);
    // Once it knows, the client refuses to send such a request at all.
    const e = await assertRejects(
      () => t.client.fetch(`${t.url}/`, { headers: { "x-big": "a".repeat(2000) } }),
      H3Error,
    );
    assertEquals(e.code, H3_ERROR.EXCESSIVE_LOAD);
    assertEquals((await t.client.fetch(`${t.url}/`)).status, 200);
  },
});

Deno.test({
  name: "H3Client aborts a request with its signal and the connection stays usable",
  ...opts,
  fn: async () => {
    await using t = serve(async (req) => {
      if (new URL(req.url).pathname === "/hang") await new Promise((r) => setTimeout(r, 2000));
      return new Response("ok");
    }, { gracefulTimeout: 100 });
    const ac = new AbortController();
    const p = t.client.fetch(`${t.url}/hang`, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assertRejects(() => p, DOMException);
    assertEquals(await (await t.client.fetch(`${t.url}/`)).text(), "ok");
  },
});

Deno.test({
  name: "h3fetch() uses a shared client and rejects non-https URLs",
  ...opts,
  fn: async () => {
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      () => new Response("hi"),
    );
    const client = new H3Client({ caCerts: [certs.caPem] });
    const res = await h3fetch(`https://localhost:${server.addr.port}/`, { client });
    assertEquals(await res.text(), "hi");
    await assertRejects(() => h3fetch("http://localhost/"), TypeError);
    await client.close();
    await server.shutdown();
  },
});

Deno.test({
  name: "H3Client retries a request the server's GOAWAY left unprocessed on a new connection",
  ...opts,
  fn: async () => {
    const { encodeFrame, encodeSettingsFrame, encodeVarintFrame, FRAME } = await import(
      "../../src/http3/frames.ts"
    );
    const { QpackEncoder } = await import("../../src/http3/qpack/encoder.ts");
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
    const listener = endpoint.listen({ cert: certs.certPem, key: certs.keyPem, alpnProtocols: ["h3"] });
    const respond = async (s: Deno.QuicBidirectionalStream, text: string) => {
      const section = new QpackEncoder().encodeFieldSection(0, [[":status", "200"]]);
      const w = s.writable.getWriter();
      await w.write(encodeFrame(FRAME.HEADERS, section));
      await w.write(encodeFrame(FRAME.DATA, new TextEncoder().encode(text)));
      await w.close();
    };
    const control = async (conn: Deno.QuicConn) => {
      const w = (await conn.createUnidirectionalStream()).getWriter();
      await w.write(new Uint8Array([0x00, ...encodeSettingsFrame([])]));
      return w;
    };
    const raw = (async () => {
      // First connection: take two requests, GOAWAY(4) so stream 4 is unprocessed, answer stream 0.
      const c1 = await listener.accept();
      const ctl = await control(c1);
      const reader = c1.incomingBidirectionalStreams.getReader();
      const s0 = (await reader.read()).value!;
      const s4 = (await reader.read()).value!;
      const ids = [Number(s0.readable.id), Number(s4.readable.id)].sort();
      assertEquals(ids, [0, 4]);
      const first = ids[0] === Number(s0.readable.id) ? s0 : s4;
      await ctl.write(encodeVarintFrame(FRAME.GOAWAY, 4));
      await respond(first, "processed");
      // Second connection: the retried request.
      const c2 = await listener.accept();
      await control(c2);
      const s = (await c2.incomingBidirectionalStreams.getReader().read()).value!;
      await respond(s, "retried");
      await c1.closed.catch(() => {});
      return c2;
    })();
    const client = new H3Client({ caCerts: [certs.caPem] });
    const url = `https://localhost:${endpoint.addr.port}/`;
    const [a, b] = await Promise.all([client.fetch(url + "a"), client.fetch(url + "b")]);
    assertEquals((await Promise.all([a.text(), b.text()])).sort(), ["processed", "retried"]);
    const c2 = await raw;
    await client.close();
    await c2.closed.catch(() => {});
    endpoint.close();
  },
});
