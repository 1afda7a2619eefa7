// EDNS(0) Padding (RFC 7830, RFC 8467 §4.1 block lengths 128/468) on DoQ (RFC 9250 §5.4) and
// DoH3: known-answer sizes at the wire level, then each client and server on a real connection.
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../_util/assert.ts";
import {
  answerToSend,
  EDNS_PADDING,
  hasEdns,
  hasPaddingOption,
  padMessage,
  QUERY_BLOCK,
  receivedQuery,
  RESPONSE_BLOCK,
  stripPadding,
} from "../../src/dns/padding.ts";
import { serveDoq } from "../../src/dns/serve_quic.ts";
import { serveDoh3 } from "../../src/dns/serve_h3.ts";
import { DOQ_ALPN, frameMessage, QuicTransport, readAll } from "../../src/dns/transports/quic.ts";
import { H3Transport } from "../../src/dns/transports/h3.ts";
import { H3Client } from "../../src/http3/client.ts";
import { serveH3 } from "../../src/http3/server.ts";
import { testCerts } from "../http3/_certs.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();
const tls = { serverName: "localhost", caCerts: [certs.caPem] };

const OPT = { name: ".", type: "OPT", udpPayloadSize: 4096, flags: 0, options: [] as unknown[] };

/** `example.com A` with an OPT record: 12 header + 17 question + 11 OPT = 40 bytes. */
function ednsQuery(id = 0, options: unknown[] = []): Uint8Array {
  return new Uint8Array(dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: "A", name: "example.com" }],
    additionals: [{ ...OPT, options }],
  } as dnsPacket.Packet));
}

/** The answer to {@linkcode ednsQuery}: one A record 93.184.216.34 and an OPT (67 bytes; 56 without OPT). */
function ednsAnswer(id = 0, withOpt = true): Uint8Array {
  return new Uint8Array(dnsPacket.encode({
    type: "response",
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: "A", name: "example.com" }],
    answers: [{ type: "A", name: "example.com", ttl: 300, data: "93.184.216.34" }],
    additionals: withOpt ? [OPT] : [],
  } as dnsPacket.Packet));
}

/** A bare message: header (ARCOUNT 1) and an OPT whose RDATA is one option 65001 of `n` bytes. */
function optOnly(n: number): Uint8Array {
  const rdlen = n > 0 ? 4 + n : 0;
  const m = new Uint8Array(23 + rdlen);
  m[11] = 1;
  m.set([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, rdlen >> 8, rdlen & 0xff], 12);
  if (n > 0) m.set([0xfd, 0xe9, n >> 8, n & 0xff], 23);
  return m;
}

// deno-lint-ignore no-explicit-any
const decode = (b: Uint8Array): any => dnsPacket.decode(Buffer.from(b));
/** The Padding option's length as dns-packet reads it, or undefined. */
function paddingOf(b: Uint8Array): number | undefined {
  const opt = decode(b).additionals.find((r: { type: string }) => r.type === "OPT");
  const padding = opt?.options?.find((o: { code: number }) => o.code === EDNS_PADDING);
  return padding?.data.length;
}

Deno.test("padMessage() pads an EDNS query of 40 bytes to 128 with an 84-byte Padding option", () => {
  const q = ednsQuery(0x1234);
  assertEquals(q.length, 40);
  const p = padMessage(q, QUERY_BLOCK);
  assertEquals(p.length, 128);
  // Everything before the OPT RDATA is unchanged except RDLENGTH (bytes 38-39): 4 + 84 = 88.
  assertEquals(Array.from(p.subarray(0, 38)), Array.from(q.subarray(0, 38)));
  assertEquals([p[38], p[39]], [0x00, 0x58]);
  // Option code 12, length 84 (0x54), then 84 zero octets.
  assertEquals(Array.from(p.subarray(40, 44)), [0x00, 0x0c, 0x00, 0x54]);
  assert(p.subarray(44).every((b) => b === 0));
  assertEquals(paddingOf(p), 84);
  assertEquals(decode(p).questions[0].name, "example.com");
  assert(hasPaddingOption(p) && !hasPaddingOption(q));
  // Stripping gives the original bytes back; padding again to the response block replaces it.
  assertEquals(Array.from(stripPadding(p)), Array.from(q));
  const r = padMessage(p, RESPONSE_BLOCK);
  assertEquals([r.length, paddingOf(r)], [468, 468 - 40 - 4]);
});

Deno.test("padMessage() block boundaries: exact fit pads 0 bytes, one byte over goes to the next block", () => {
  // 23 + 4 + 97 = 124 bytes; with the 4-byte option header exactly 128.
  const fit = padMessage(optOnly(97), QUERY_BLOCK);
  assertEquals([fit.length, paddingOf(fit)], [128, 0]);
  // 125 bytes: 125 + 4 = 129 → 256, padding 127.
  const over = padMessage(optOnly(98), QUERY_BLOCK);
  assertEquals([over.length, paddingOf(over)], [256, 127]);
  // The option before the padding is kept as it was.
  assertEquals(Array.from(over.subarray(23, 27)), [0xfd, 0xe9, 0x00, 98]);
  // A message that cannot be padded within 65535 bytes is sent without padding.
  const big = padMessage(optOnly(65500), RESPONSE_BLOCK);
  assertEquals([big.length, hasPaddingOption(big)], [optOnly(65500).length, false]);
});

Deno.test("padMessage() keeps other EDNS options and leaves messages it must not edit alone", () => {
  const ecs = {
    code: "CLIENT_SUBNET",
    family: 1,
    sourcePrefixLength: 24,
    scopePrefixLength: 0,
    ip: "10.1.2.0",
  };
  const q = ednsQuery(1, [ecs]);
  const p = padMessage(q, QUERY_BLOCK);
  assertEquals(p.length, 128);
  const options = decode(p).additionals[0].options;
  assertEquals(options.map((o: { code: number }) => o.code), [8, EDNS_PADDING]);
  assertEquals(options[0].ip, "10.1.2.0");
  // No OPT record: the message is returned as is (same object).
  const plain = new Uint8Array(
    dnsPacket.encode({ type: "query", id: 1, questions: [{ type: "A", name: "a.b" }] }),
  );
  assert(padMessage(plain, QUERY_BLOCK) === plain && !hasEdns(plain));
  // OPT followed by another record (as before a TSIG): not touched.
  const notLast = new Uint8Array(dnsPacket.encode({
    type: "query",
    id: 1,
    questions: [{ type: "A", name: "a.b" }],
    additionals: [OPT, { type: "A", name: "x.b", ttl: 1, data: "1.1.1.1" }],
  } as dnsPacket.Packet));
  assert(padMessage(notLast, QUERY_BLOCK) === notLast);
  // A malformed option list is left alone too.
  const bad = optOnly(8);
  bad[25] = 0xff; // option length past the RDATA
  assert(padMessage(bad, QUERY_BLOCK) === bad);
});

Deno.test("receivedQuery()/answerToSend(): server strips query padding, pads EDNS answers to 468", () => {
  const padded = padMessage(ednsQuery(), QUERY_BLOCK);
  const { query, padAnswer } = receivedQuery(padded);
  assertEquals([query.length, padAnswer], [40, true]);
  const answer = ednsAnswer();
  assertEquals(answer.length, 67); // dns-packet does not compress names
  const out = answerToSend(answer, true);
  assertEquals([out.length, paddingOf(out)], [468, 468 - 67 - 4]);
  // The upstream's answer had no OPT: one is added (the query had EDNS) and padded.
  const noOpt = ednsAnswer(0, false);
  const added = answerToSend(noOpt, true);
  assertEquals(added.length, 468);
  assertEquals(decode(added).additionals[0].udpPayloadSize, 1232);
  // A query without EDNS gets its answer unchanged.
  const plainQuery = receivedQuery(new Uint8Array(dnsPacket.encode({ type: "query", id: 0, questions: [] })));
  assertEquals(plainQuery.padAnswer, false);
  assert(answerToSend(noOpt, false) === noOpt);
});

/** A raw DoQ server answering each stream with `reply(query)`; records the queries' wire bytes. */
function rawDoqServer(reply: (query: Uint8Array) => Uint8Array) {
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({ cert: certs.certPem, key: certs.keyPem, alpnProtocols: [DOQ_ALPN] });
  const seen: Uint8Array[] = [];
  (async () => {
    for await (const incoming of listener) {
      (async () => {
        const conn = await incoming.accept();
        for await (const s of conn.incomingBidirectionalStreams) {
          const data = await readAll(s.readable);
          seen.push(data.slice(2));
          const w = s.writable.getWriter();
          await w.write(frameMessage(reply(data.subarray(2))));
          await w.close();
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return { port: endpoint.addr.port, seen, close: () => endpoint.close() };
}

Deno.test({
  name: "QuicTransport pads EDNS queries to 128 bytes on the wire and strips padding from answers",
  ...opts,
  fn: async () => {
    const server = rawDoqServer((q) => padMessage(ednsAnswer(0, hasEdns(q)), RESPONSE_BLOCK));
    const doq = new QuicTransport({ tag: "doq", server: "127.0.0.1", serverPort: server.port, tls });
    try {
      const a = await doq.exchange(ednsQuery(0x4242));
      assertEquals(server.seen[0].length, 128);
      assertEquals(paddingOf(server.seen[0]), 84);
      assertEquals([server.seen[0][0], server.seen[0][1]], [0, 0]); // ID 0 on the wire
      assertEquals([a.length, hasPaddingOption(a), decode(a).id], [67, false, 0x4242]);
      assertEquals(decode(a).answers[0].data, "93.184.216.34");
      // Without EDNS nothing is padded.
      await doq.exchange(
        new Uint8Array(dnsPacket.encode({
          type: "query",
          id: 7,
          questions: [{ type: "A", name: "example.com" }],
        })),
      );
      assertEquals(server.seen[1].length, 29);
    } finally {
      await doq.close();
      server.close();
    }
  },
});

Deno.test({
  name: "serveDoq() and serveDoh3() route the unpadded query and send EDNS answers padded to 468",
  ...opts,
  fn: async () => {
    const routed: number[] = [];
    // The "router": the answer with the query's ID, with an OPT only if the query had EDNS.
    const answerer = (q: Uint8Array) => {
      routed.push(q.length);
      return Promise.resolve(ednsAnswer((q[0] << 8) | q[1], hasEdns(q)));
    };
    const base = { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem };
    const doq = serveDoq(answerer, base);
    const doh3 = serveDoh3(answerer, base);
    const client = new H3Client({ caCerts: [certs.caPem] });
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: doq.addr.port,
      serverName: "localhost",
      caCerts: [certs.caPem],
      alpnProtocols: [DOQ_ALPN],
    });
    const doqExchange = async (msg: Uint8Array) => {
      const s = await conn.createBidirectionalStream();
      const w = s.writable.getWriter();
      await w.write(frameMessage(msg));
      await w.close();
      return (await readAll(s.readable)).slice(2);
    };
    try {
      const padded = padMessage(ednsQuery(), QUERY_BLOCK);
      const viaDoq = await doqExchange(padded);
      assertEquals([viaDoq.length, paddingOf(viaDoq)], [468, 397]);
      const res = await client.fetch(`https://localhost:${doh3.addr.port}/dns-query`, {
        method: "POST",
        headers: { "content-type": "application/dns-message" },
        body: padded as Uint8Array<ArrayBuffer>,
      });
      const viaDoh3 = new Uint8Array(await res.arrayBuffer());
      assertEquals([viaDoh3.length, paddingOf(viaDoh3)], [468, 397]);
      // Both servers handed the router the query without its padding.
      assertEquals(routed, [40, 40]);
      // A query without EDNS gets a plain answer.
      const plain = await doqExchange(
        new Uint8Array(dnsPacket.encode({
          type: "query",
          id: 0,
          questions: [{ type: "A", name: "example.com" }],
        })),
      );
      assertEquals([plain.length, hasEdns(plain)], [56, false]);
    } finally {
      conn.close();
      await client.close();
      await Promise.all([doq.shutdown(), doh3.shutdown()]);
    }
  },
});

Deno.test({
  name: "H3Transport pads EDNS queries to 128 bytes in the POST body and strips padding from answers",
  ...opts,
  fn: async () => {
    const bodies: Uint8Array[] = [];
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem },
      async (req) => {
        const q = new Uint8Array(await req.arrayBuffer());
        bodies.push(q);
        const a = padMessage(ednsAnswer(0), RESPONSE_BLOCK);
        return new Response(a as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": "application/dns-message" },
        });
      },
    );
    const doh3 = new H3Transport({ tag: "h3", server: "127.0.0.1", serverPort: server.addr.port, tls });
    try {
      const a = await doh3.exchange(ednsQuery(0x0102));
      assertEquals([bodies[0].length, paddingOf(bodies[0])], [128, 84]);
      assertEquals([a.length, hasPaddingOption(a), decode(a).id], [67, false, 0x0102]);
    } finally {
      await doh3.close();
      await server.shutdown();
    }
  },
});
