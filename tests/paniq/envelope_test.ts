import fc from "fast-check";
import { assert, assertEquals } from "./_assert.ts";
import { parseProfile, resolveClient, resolveServer } from "../../src/protocol/paniq/profile.ts";
import { ServerEnvelope, type ServerEvent } from "../../src/protocol/paniq/server_envelope.ts";
import {
  buildInitiation,
  buildPreamble,
  isResponse,
  newClientCodec,
} from "../../src/protocol/paniq/client_envelope.ts";
import { newEnvelopeCounters } from "../../src/protocol/paniq/metrics.ts";
import {
  decodeTransportPayload,
  encodeTransportPayload,
} from "../../src/protocol/paniq/transport_payload.ts";
import { Framer } from "../../src/protocol/paniq/framer.ts";
import { MessageType } from "../../src/protocol/paniq/constants.ts";
import { parseChain, validateSignature } from "../../src/protocol/paniq/chain.ts";
import {
  decodeProxyReply,
  decodeProxyRequest,
  encodeProxyReply,
  encodeProxyRequest,
} from "../../src/protocol/paniq/proxy_codec.ts";
import { decodeProfileCbor } from "../../src/protocol/paniq/profile_cbor.ts";
import { exampleProfile } from "./_helpers.ts";

const NOW = 1_700_000_000_000;

function setup(obf: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  const p = parseProfile(exampleProfile({ rate_limit_pps: 0, ...obf }, top));
  const server = new ServerEnvelope(resolveServer(p, "", NOW), newEnvelopeCounters());
  const client = resolveClient(p);
  return { server, client };
}

function handshake(
  server: ServerEnvelope,
  client: ReturnType<typeof resolveClient>,
  peer: string,
  now = NOW,
) {
  const init = buildInitiation(client, now);
  let last: ServerEvent = { kind: "preamble" };
  for (const d of [...buildPreamble(client, now), init]) {
    last = server.handleDatagram(now, peer, "127.0.0.1", d);
  }
  return { last, init };
}

Deno.test("example profile: 444-byte initiation, Response accepted, transport both ways", () => {
  const { server, client } = setup();
  const init = buildInitiation(client, NOW);
  assertEquals(init.length, 339 + 4 + 85 + 16);
  const { last } = handshake(server, client, "1.1.1.1:5");
  assertEquals(last.kind, "ready");
  if (last.kind !== "ready") return;
  assertEquals(last.response.length, 436);
  assert(isResponse(client, last.response));
  assertEquals(server.counters.junk, 4);
  const codec = newClientCodec(client, newEnvelopeCounters());
  const quic = crypto.getRandomValues(new Uint8Array(1200));
  const frame = codec.encode(quic)!;
  assert(frame.length <= 1350);
  const ev = server.handleDatagram(NOW, "1.1.1.1:5", "1.1.1.1", frame);
  assertEquals(ev.kind, "transport");
  if (ev.kind === "transport") assertEquals(ev.inner, quic);
  const back = server.encodeTransport("1.1.1.1:5", new Uint8Array([9, 9]))!;
  assertEquals(codec.decode(back), new Uint8Array([9, 9]));
});

Deno.test("transport_replay on: counters start at 0, duplicates and stale counters are dropped", () => {
  const { server, client } = setup({ transport_replay: true });
  assertEquals(handshake(server, client, "p:1").last.kind, "ready");
  const counters = newEnvelopeCounters();
  const codec = newClientCodec(client, counters);
  const f0 = codec.encode(new Uint8Array([1]))!;
  const payload = new Framer(client.profile.obfuscation).decodeFrame(f0)!.payload;
  assertEquals(decodeTransportPayload(payload, true)!.counter, 0n);
  assertEquals(server.handleDatagram(NOW, "p:1", "p", f0).kind, "transport");
  assertEquals(server.handleDatagram(NOW, "p:1", "p", f0).kind, "drop");
  assertEquals(server.counters.transport_replay, 1);
  for (let i = 0; i < 9000; i++) codec.encode(new Uint8Array([1]));
  const late = codec.encode(new Uint8Array([2]))!;
  assertEquals(server.handleDatagram(NOW, "p:1", "p", late).kind, "transport");
  // An old frame far outside the 8128 window: forge counter 1 with the client framer.
  const forged = new Framer(client.profile.obfuscation).encodeFrame(
    MessageType.Transport,
    encodeTransportPayload(new Uint8Array([3]), 0, 1n),
  );
  assertEquals(server.handleDatagram(NOW, "p:1", "p", forged).kind, "drop");
  assertEquals(server.counters.transport_replay, 2);
});

Deno.test("server rejects wrong MAC1, a replayed initiation, a stale or missing encrypted timestamp", () => {
  const { server, client } = setup();
  const feed = (peer: string, last: Uint8Array, now = NOW) => {
    let ev: ServerEvent = { kind: "preamble" };
    for (const d of [...buildPreamble(client, now), last]) ev = server.handleDatagram(now, peer, "x", d);
    return ev;
  };
  const init = buildInitiation(client, NOW);
  const badMac = init.slice();
  badMac[badMac.length - 1] ^= 1;
  assertEquals(feed("a:1", badMac), { kind: "drop", reason: "mac1_invalid", detail: "mac1 invalid" });
  assertEquals(server.counters.mac1_invalid, 1);
  assertEquals(feed("a:1", init).kind, "ready");
  // The captured initiation replayed from another address is refused and counted.
  assertEquals(feed("a:2", init), {
    kind: "drop",
    reason: "replay_reject",
    detail: "encrypted timestamp replayed",
  });
  assertEquals(server.counters.replay_reject, 1);
  // A fresh initiation from 60 s ago is outside skew_hard.
  const stale = feed("a:3", buildInitiation(client, NOW - 60_000));
  assertEquals(stale.kind === "drop" && stale.detail, "encrypted timestamp skew hard");
  // require_encrypted_timestamp: an initiation without one is refused.
  const noTs = setup({ encrypted_timestamp: false });
  let ev: ServerEvent = { kind: "preamble" };
  for (const d of [...buildPreamble(noTs.client, NOW), buildInitiation(noTs.client, NOW)]) {
    ev = noTs.server.handleDatagram(NOW, "c:1", "x", d);
  }
  assertEquals(ev.kind === "drop" && ev.detail, "encrypted timestamp missing");
});

Deno.test("<t> path: skew beyond hard limit rejected, replayed initiation rejected by the cache", () => {
  const { server, client } = setup({ require_encrypted_timestamp: false, encrypted_timestamp: false });
  const old = NOW - 60_000;
  let ev: ServerEvent = { kind: "preamble" };
  const init = buildInitiation(client, old);
  for (const d of [...buildPreamble(client, old), init]) ev = server.handleDatagram(NOW, "s:1", "s", d);
  assertEquals(ev.kind === "drop" && ev.reason, "timestamp_invalid");
  const pre = buildPreamble(client, NOW);
  const init2 = buildInitiation(client, NOW);
  for (const d of [...pre, init2]) ev = server.handleDatagram(NOW, "s:2", "s", d);
  assertEquals(ev.kind, "ready");
  for (const d of [...pre, init2]) ev = server.handleDatagram(NOW, "s:3", "s", d);
  assertEquals(ev.kind === "drop" && ev.reason, "replay_reject");
  assertEquals(server.counters.replay_reject, 1);
});

Deno.test("legacy mode accepts a missing <t> before its sunset, refuses after it", () => {
  const p = parseProfile(exampleProfile({
    require_timestamp: false,
    require_encrypted_timestamp: false,
    encrypted_timestamp: false,
    legacy_mode_enabled: true,
    legacy_mode_sunset: "2099-01-01",
  }));
  const client = resolveClient(p);
  const noT = resolveClient(parseProfile(exampleProfile({ i1: "<r 4>" })));
  // Go cannot reach this path with a valid config; force require_timestamp to exercise it.
  const cfg = { ...resolveServer(p, "", NOW), requireTimestamp: true, signatureValidate: false };
  const server = new ServerEnvelope(cfg, newEnvelopeCounters());
  let ev: ServerEvent = { kind: "preamble" };
  for (const d of [...buildPreamble(noT, NOW), buildInitiation(client, NOW)]) {
    ev = server.handleDatagram(NOW, "l:1", "l", d);
  }
  assertEquals(ev.kind, "ready");
  assertEquals(server.counters.legacy_missing, 1);
  const late = new ServerEnvelope({ ...cfg, legacySunsetMs: NOW - 1 }, newEnvelopeCounters());
  for (const d of [...buildPreamble(noT, NOW), buildInitiation(client, NOW)]) {
    ev = late.handleDatagram(NOW, "l:1", "l", d);
  }
  assertEquals(ev.kind === "drop" && ev.reason, "timestamp_invalid");
});

Deno.test("rate limiter drops a preamble burst larger than the bucket", () => {
  const { server, client } = setup({ rate_limit_pps: 20, rate_limit_burst: 5 });
  assertEquals(handshake(server, client, "r:1").last.kind, "drop"); // 4 junk + 1 sig + init = 6 > 5
  assert(server.counters.rate_limit >= 1);
  const ok = setup({ rate_limit_pps: 200, rate_limit_burst: 500 });
  assertEquals(handshake(ok.server, ok.client, "r:1").last.kind, "ready");
});

Deno.test("preamble state expires after handshake_timeout and collect() bounds the peer map", () => {
  const { server, client } = setup();
  const pre = buildPreamble(client, NOW);
  server.handleDatagram(NOW, "e:1", "e", pre[0]);
  server.handleDatagram(NOW, "e:1", "e", pre[1]);
  // 6 s later the state resets, so the rest of this preamble no longer lines up.
  let ev: ServerEvent = { kind: "preamble" };
  for (const d of [...pre.slice(2), buildInitiation(client, NOW + 6000)]) {
    ev = server.handleDatagram(NOW + 6000, "e:1", "e", d);
  }
  // The reset state counted the rest as junk: nothing lined up, nobody is ready.
  assertEquals(ev.kind, "preamble");
  assertEquals(server.isReady("e:1"), false);
  server.collect(NOW + 20_000);
  assertEquals(server.peerCount, 0);
});

Deno.test("hostile input: random datagrams never throw and never make a peer ready", () => {
  const { server, client } = setup();
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 12 }), (dgs) => {
      for (const d of dgs) {
        const ev = server.handleDatagram(NOW, "h:1", "h", d);
        assert(ev.kind === "preamble" || ev.kind === "drop");
      }
    }),
    { numRuns: 300 },
  );
  // A ready peer fed garbage only drops.
  assertEquals(handshake(server, client, "h:2").last.kind, "ready");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (d) => {
      assert(server.handleDatagram(NOW, "h:2", "h", d).kind !== "ready");
    }),
    { numRuns: 500 },
  );
});

Deno.test("fuzz: decoders of frames, transport payloads, chains, proxy messages and CBOR never crash", () => {
  const framer = new Framer(client0().profile.obfuscation);
  const chain = parseChain("<b 0xdead><t><rc 3><rd 2>");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (d, replay) => {
      framer.decodeFrame(d);
      const p = decodeTransportPayload(d, replay);
      if (p) assert(p.inner.length >= 1 && p.inner.length <= d.length);
      validateSignature(chain, d);
      for (const dec of [decodeProxyRequest, decodeProxyReply]) {
        try {
          dec(d);
        } catch (e) {
          assert((e as Error).name === "ProtocolError");
        }
      }
      try {
        decodeProfileCbor(d);
      } catch (e) {
        assert((e as Error).name === "ConfigError");
      }
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        parseChain(s);
      } catch (e) {
        assert(e instanceof SyntaxError || e instanceof RangeError);
      }
    }),
    { numRuns: 2000 },
  );
});

function client0() {
  return setup().client;
}

Deno.test("proxy codec: Go examples and round trips", () => {
  const hex = (b: Uint8Array) => Array.from(b).map((x) => x.toString(16).padStart(2, "0")).join("");
  assertEquals(
    hex(encodeProxyRequest({ host: "example.com", port: 443 })),
    "01030b6578616d706c652e636f6d01bb",
  );
  assertEquals(hex(encodeProxyRequest({ host: "93.184.216.34", port: 80 })), "01015db8d8220050");
  assertEquals(hex(encodeProxyRequest({ host: "::ffff:10.0.0.5", port: 1 })), "01010a0000050001");
  assertEquals(hex(encodeProxyReply(0, { host: "10.0.0.5", port: 54321 })), "0100010a000005d431");
  assertEquals(hex(encodeProxyReply(1)), "010101000000000000");
  assertEquals(decodeProxyRequest(encodeProxyRequest({ host: "2001:db8::1", port: 8080 }))?.value, {
    host: "2001:db8::1",
    port: 8080,
  });
  assertEquals(decodeProxyRequest(new Uint8Array([1, 3, 5, 0x61])), null);
  assertEquals(decodeProxyReply(new Uint8Array([1, 0, 3, 1, 0x61, 0, 80]))?.value, {
    status: 0,
    bind: { host: "a", port: 80 },
  });
});
