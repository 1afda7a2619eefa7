// DNS over HTTP/3 and DNS over QUIC: Switchyard's transports against Switchyard's servers
// answering from a local zone, through the DNS router (cache) and on failures (reconnect,
// SERVFAIL, protocol errors, timeouts).
import * as dnsPacket from "dns-packet";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Metadata } from "../../src/adapter/types.ts";
import { Box } from "../../src/box.ts";
import { parseConfig } from "../../src/config/config.ts";
import { buildDnsRouter } from "../../src/dns/build.ts";
import { registries } from "../../src/include/registry.ts";
import { DnsClient } from "../../src/dns/client.ts";
import { DnsRouter } from "../../src/dns/router.ts";
import { dnsSchema } from "../../src/dns/options.ts";
import { routerAnswerer, serveDoq } from "../../src/dns/serve_quic.ts";
import { serveDoh3 } from "../../src/dns/serve_h3.ts";
import { createH3Transport, H3Transport } from "../../src/dns/transports/h3.ts";
import { createQuicTransport, QuicTransport } from "../../src/dns/transports/quic.ts";
import { H3Client } from "../../src/http3/client.ts";
import { testCerts } from "../http3/_certs.ts";
import { freeUdpPort } from "../_util/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();
const tls = { serverName: "localhost", caCerts: [certs.caPem] };

/** The server side: a router answering from a local zone, counting what reaches it. */
function zoneAnswerer() {
  const router = buildDnsRouter(
    dnsSchema.parse({
      servers: [{
        type: "hosts",
        tag: "zone",
        predefined: { "www.zone.test": ["10.1.2.3"], "v6.zone.test": ["fd00::53"] },
      }],
    }),
    {},
  );
  const answer = routerAnswerer(router);
  const seen: string[] = [];
  return {
    seen,
    answer: (q: Uint8Array, m: Metadata) => {
      seen.push(`${m.inboundType}:${dnsPacket.decode(Buffer.from(q)).questions?.[0]?.name}`);
      return answer(q, m);
    },
  };
}

function query(name: string, type: "A" | "AAAA" = "A", id = 4242): Uint8Array {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
}

// deno-lint-ignore no-explicit-any
function decode(b: Uint8Array): any {
  return dnsPacket.decode(Buffer.from(b));
}

Deno.test({
  name: "QuicTransport ↔ serveDoq(): answers from a local zone, IDs restored, NXDOMAIN, concurrency",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const server = serveDoq(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const doq = new QuicTransport({ tag: "doq", server: "127.0.0.1", serverPort: server.addr.port, tls });
    try {
      const a = decode(await doq.exchange(query("www.zone.test", "A", 777)));
      assert.equal(a.id, 777);
      assert.equal(a.rcode, "NOERROR");
      assert.deepEqual(a.answers.map((r: { data: string }) => r.data), ["10.1.2.3"]);
      const aaaa = decode(await doq.exchange(query("v6.zone.test", "AAAA")));
      assert.deepEqual(aaaa.answers.map((r: { data: string }) => r.data), ["fd00::53"]);
      assert.equal(decode(await doq.exchange(query("nope.zone.test"))).rcode, "NXDOMAIN");
      const many = await Promise.all(
        Array.from({ length: 50 }, (_, i) => doq.exchange(query("www.zone.test", "A", i)).then(decode)),
      );
      assert.deepEqual(many.map((m) => m.id), Array.from({ length: 50 }, (_, i) => i));
      assert.ok(zone.seen.every((s) => s.startsWith("quic:")));
    } finally {
      await doq.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "H3Transport ↔ serveDoh3(): POST and GET, cache-control from the TTL, IDs restored",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const server = serveDoh3(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const post = new H3Transport({ tag: "post", server: "127.0.0.1", serverPort: server.addr.port, tls });
    const get = new H3Transport({
      tag: "get",
      server: "127.0.0.1",
      serverPort: server.addr.port,
      tls,
      method: "GET",
    });
    try {
      assert.equal(post.url, `https://localhost:${server.addr.port}/dns-query`);
      const a = decode(await post.exchange(query("www.zone.test", "A", 31337)));
      assert.equal(a.id, 31337);
      assert.deepEqual(a.answers.map((r: { data: string }) => r.data), ["10.1.2.3"]);
      const g = decode(await get.exchange(query("v6.zone.test", "AAAA", 5)));
      assert.equal(g.id, 5);
      assert.deepEqual(g.answers.map((r: { data: string }) => r.data), ["fd00::53"]);
      assert.equal(decode(await get.exchange(query("missing.zone.test"))).rcode, "NXDOMAIN");
      assert.ok(zone.seen.every((s) => s.startsWith("h3:")));
      // The raw HTTP/3 exchange: media type and max-age.
      const client = new H3Client({ caCerts: [certs.caPem] });
      const res = await client.fetch(`https://localhost:${server.addr.port}/dns-query`, {
        method: "POST",
        headers: { "content-type": "application/dns-message" },
        body: query("www.zone.test", "A", 0) as Uint8Array<ArrayBuffer>,
      });
      assert.equal(res.headers.get("content-type"), "application/dns-message");
      assert.match(res.headers.get("cache-control") ?? "", /^max-age=\d+$/);
      await res.body?.cancel();
      // Bad requests.
      const status = async (path: string, init?: RequestInit) => {
        const r = await client.fetch(`https://localhost:${server.addr.port}${path}`, init);
        await r.body?.cancel();
        return r.status;
      };
      assert.equal(await status("/other"), 404);
      assert.equal(await status("/dns-query?dns=***"), 400);
      assert.equal(
        await status("/dns-query", { method: "POST", body: "x", headers: { "content-type": "text/plain" } }),
        415,
      );
      assert.equal(await status("/dns-query", { method: "PUT", body: "x" }), 405);
      await client.close();
    } finally {
      await post.close();
      await get.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "DNS router with h3 and quic servers from config: lookups, rules and the cache",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const doq = serveDoq(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const doh3 = serveDoh3(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const tlsConf = { enabled: true, server_name: "localhost", certificate: [certs.caPem] };
    const router = buildDnsRouter(
      dnsSchema.parse({
        servers: [
          { type: "h3", tag: "doh3", server: "127.0.0.1", server_port: doh3.addr.port, tls: tlsConf },
          { type: "quic", tag: "doq", server: "127.0.0.1", server_port: doq.addr.port, tls: tlsConf },
        ],
        rules: [{ domain_suffix: ["v6.zone.test"], server: "doq" }],
        final: "doh3",
      }),
      { extraTransports: { h3: createH3Transport, quic: createQuicTransport } },
    );
    try {
      assert.deepEqual(await router.lookup("www.zone.test", { strategy: "ipv4_only" }), ["10.1.2.3"]);
      assert.deepEqual(await router.lookup("v6.zone.test", { strategy: "ipv6_only" }), ["fd00::53"]);
      assert.deepEqual(zone.seen, ["h3:www.zone.test", "quic:v6.zone.test"]);
      // Cached: the servers see nothing new.
      assert.deepEqual(await router.lookup("www.zone.test", { strategy: "ipv4_only" }), ["10.1.2.3"]);
      assert.deepEqual(await router.lookup("v6.zone.test", { strategy: "ipv6_only" }), ["fd00::53"]);
      assert.equal(zone.seen.length, 2);
    } finally {
      for (const t of router.transports.values()) await t.close();
      await doq.shutdown();
      await doh3.shutdown();
    }
  },
});

Deno.test({
  name: "QuicTransport and H3Transport reconnect after the server drops idle connections",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const base = { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem, idleTimeout: 200 };
    const doqServer = serveDoq(zone.answer, base);
    const doh3Server = serveDoh3(zone.answer, base);
    const doq = new QuicTransport({ tag: "doq", server: "127.0.0.1", serverPort: doqServer.addr.port, tls });
    const doh3 = new H3Transport({ tag: "doh3", server: "127.0.0.1", serverPort: doh3Server.addr.port, tls });
    try {
      for (let round = 0; round < 3; round++) {
        assert.equal(decode(await doq.exchange(query("www.zone.test"))).rcode, "NOERROR");
        assert.equal(decode(await doh3.exchange(query("www.zone.test"))).rcode, "NOERROR");
        await new Promise((r) => setTimeout(r, 500)); // past the idle timeout: both connections close
      }
      assert.equal(zone.seen.length, 6);
    } finally {
      await doq.close();
      await doh3.close();
      await doqServer.shutdown();
      await doh3Server.shutdown();
    }
  },
});

Deno.test({
  name: "serveDoq() and serveDoh3() answer SERVFAIL when their upstream fails",
  ...opts,
  fn: async () => {
    // The server's only upstream is down: every exchange fails at once.
    const failing = new DnsRouter({
      client: new DnsClient({}),
      transports: new Map([["dead", {
        type: "dead",
        tag: "dead",
        exchange: () => Promise.reject(new Error("upstream down")),
        close: () => Promise.resolve(),
      }]]),
    });
    const quick = routerAnswerer(failing);
    const doq = serveDoq(quick, { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
    const doh3 = serveDoh3(quick, { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem });
    const tq = new QuicTransport({ tag: "q", server: "127.0.0.1", serverPort: doq.addr.port, tls });
    const th = new H3Transport({ tag: "h", server: "127.0.0.1", serverPort: doh3.addr.port, tls });
    try {
      assert.equal(decode(await tq.exchange(query("www.zone.test"))).rcode, "SERVFAIL");
      assert.equal(decode(await th.exchange(query("www.zone.test"))).rcode, "SERVFAIL");
    } finally {
      await tq.close();
      await th.close();
      for (const t of failing.transports.values()) await t.close();
      await doq.shutdown();
      await doh3.shutdown();
    }
  },
});

Deno.test({
  name: "serveDoq() closes with DOQ_PROTOCOL_ERROR on a nonzero message ID",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const server = serveDoq(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: server.addr.port,
      serverName: "localhost",
      caCerts: [certs.caPem],
      alpnProtocols: ["doq"],
    });
    const s = await conn.createBidirectionalStream();
    const q = query("www.zone.test", "A", 99);
    const w = s.writable.getWriter();
    await w.write(new Uint8Array([q.length >> 8, q.length & 0xff, ...q]));
    await w.close();
    const info = await conn.closed;
    assert.equal(info.closeCode, 0x2);
    assert.equal(zone.seen.length, 0);
    await server.shutdown();
  },
});

Deno.test({
  name: "QuicTransport and H3Transport give up when the server does not answer",
  ...opts,
  fn: async () => {
    const port = freeUdpPort();
    const doq = new QuicTransport({ tag: "q", server: "127.0.0.1", serverPort: port, tls });
    const doh3 = new H3Transport({ tag: "h", server: "127.0.0.1", serverPort: port, tls });
    const t0 = performance.now();
    await assert.rejects(() => doq.exchange(query("www.zone.test"), AbortSignal.timeout(300)));
    await assert.rejects(() => doh3.exchange(query("www.zone.test"), AbortSignal.timeout(300)));
    assert.ok(performance.now() - t0 < 5000);
    await doq.close();
    await doh3.close();
  },
});

Deno.test({
  name: "a config's h3 and quic DNS servers work through Box.create()",
  ...opts,
  fn: async () => {
    const zone = zoneAnswerer();
    const doq = serveDoq(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const doh3 = serveDoh3(zone.answer, {
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
    });
    const tlsConf = { enabled: true, server_name: "localhost", certificate: [certs.caPem] };
    const box = Box.create(
      parseConfig({
        dns: {
          servers: [
            { type: "quic", tag: "doq", server: "127.0.0.1", server_port: doq.addr.port, tls: tlsConf },
            { type: "h3", tag: "doh3", server: "127.0.0.1", server_port: doh3.addr.port, tls: tlsConf },
          ],
          rules: [{ domain: ["v6.zone.test"], server: "doh3" }],
        },
        outbounds: [{ type: "direct", tag: "direct" }],
      }, registries()),
      registries(),
    );
    try {
      assert.deepEqual(await box.dns.lookup("www.zone.test", { strategy: "ipv4_only" }), ["10.1.2.3"]);
      assert.deepEqual(await box.dns.lookup("v6.zone.test", { strategy: "ipv6_only" }), ["fd00::53"]);
      assert.deepEqual(zone.seen, ["quic:www.zone.test", "h3:v6.zone.test"]);
    } finally {
      for (const t of box.dns.transports.values()) await t.close();
      await doq.shutdown();
      await doh3.shutdown();
    }
  },
});
