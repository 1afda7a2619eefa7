import fc from "fast-check";
import { ecb, gcm } from "@noble/ciphers/aes.js";
import { assert, assertEquals } from "../../_util/assert.ts";
import { parseClientHello } from "../../../src/route/sniff/client_hello.ts";
import { sniffPacket, sniffStream } from "../../../src/route/sniff/mod.ts";
import { sniffHttp } from "../../../src/route/sniff/http.ts";
import {
  clientInitialKeys,
  guessQuicClient,
  newQuicSniffContext,
  sniffQuic,
} from "../../../src/route/sniff/quic.ts";
import { readClientHello, sniffTls } from "../../../src/route/sniff/tls.ts";
import { sniffDnsPacket, sniffDnsStream } from "../../../src/route/sniff/dns.ts";
import { sniffStun } from "../../../src/route/sniff/stun.ts";
import { sniffBittorrentPacket, sniffBittorrentStream } from "../../../src/route/sniff/bittorrent.ts";
import { sniffDtls } from "../../../src/route/sniff/dtls.ts";
import { sniffSsh } from "../../../src/route/sniff/ssh.ts";
import { sniffRdp } from "../../../src/route/sniff/rdp.ts";
import { sniffNtp } from "../../../src/route/sniff/ntp.ts";
import { buildQuery } from "../../../src/dns/client.ts";
import { fromHex, RFC9001_CLIENT_INITIAL } from "./_rfc9001.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Captures the first bytes a real TLS client (Deno's rustls) sends for `serverName`. */
async function captureClientHello(serverName: string, alpn?: string[]): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const pending = Deno.startTls(client, { hostname: serverName, alpnProtocols: alpn })
    .then((tls) => tls.handshake().then(() => tls, () => tls), () => undefined);
  const server = await accepted;
  const buf = new Uint8Array(16384);
  let got = 0;
  while (got < 5 || got < 5 + ((buf[3] << 8) | buf[4])) {
    const n = await server.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  server.close();
  listener.close();
  const tls = await pending;
  try {
    tls?.close();
  } catch { /* closed */ }
  try {
    client.close();
  } catch { /* closed */ }
  return buf.slice(0, got);
}

Deno.test("sniffTls reads SNI and ALPN from a real ClientHello and asks for more on every prefix", async () => {
  const hello = await captureClientHello("sniff.example.org", ["h2", "http/1.1"]);
  assertEquals(sniffTls(hello), { protocol: "tls", domain: "sniff.example.org", alpn: ["h2", "http/1.1"] });
  for (let i = 0; i < hello.length; i += 7) {
    assertEquals(sniffTls(hello.subarray(0, i)), "need-more", `prefix ${i}`);
  }
  assertEquals(sniffStream(hello), {
    protocol: "tls",
    domain: "sniff.example.org",
    alpn: ["h2", "http/1.1"],
  });
});

Deno.test("sniffTls reassembles a ClientHello split over several records", async () => {
  const hello = await captureClientHello("split.example");
  const body = hello.subarray(5);
  const records: number[] = [];
  for (let i = 0; i < body.length; i += 50) {
    const chunk = body.subarray(i, i + 50);
    records.push(0x16, 0x03, 0x01, chunk.length >> 8, chunk.length & 0xff, ...chunk);
  }
  const bytes = new Uint8Array(records);
  assertEquals((sniffTls(bytes) as { domain: string }).domain, "split.example");
  assertEquals(sniffTls(bytes.subarray(0, bytes.length - 1)), "need-more");
});

Deno.test("sniffTls rejects non-TLS and a non-ClientHello handshake", () => {
  assertEquals(sniffTls(enc("GET / HTTP/1.1\r\n")), null);
  assertEquals(sniffTls(new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])), null);
  assertEquals(sniffTls(new Uint8Array([0x17])), null);
  assertEquals(sniffTls(new Uint8Array([0x16])), "need-more");
});

Deno.test("sniffHttp reads Host without port, absolute-form targets and IPv6 hosts", () => {
  const cases: [string, unknown][] = [
    ["GET / HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n", {
      protocol: "http",
      domain: "www.example.com",
    }],
    ["POST /x HTTP/1.0\r\nhost: a.test:8080\r\n\r\nbody", { protocol: "http", domain: "a.test" }],
    ["GET http://abs.test:81/p HTTP/1.1\r\nHost: other\r\n\r\n", { protocol: "http", domain: "abs.test" }],
    ["GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", { protocol: "http", domain: "2001:db8::1" }],
    ["GET / HTTP/1.1\r\nHost: x", "need-more"],
    ["GE", "need-more"],
    ["GET / HTTP/1.1\r\n", "need-more"],
    ["\x16\x03\x01", null],
    ["GET /\r\n\r\n", null],
    ["SSH-2.0-OpenSSH\r\n", null],
  ];
  for (const [input, want] of cases) assertEquals(sniffHttp(enc(input)), want, JSON.stringify(input));
});

Deno.test("sniffQuic decrypts the RFC 9001 A.2 client Initial: SNI example.com", () => {
  const k = clientInitialKeys(fromHex("8394c8f03e515708"));
  assertEquals(
    Array.from(k.key, (b) => b.toString(16).padStart(2, "0")).join(""),
    "1f369613dd76d5467730efcbe3b1a22d",
  );
  assertEquals(Array.from(k.iv, (b) => b.toString(16).padStart(2, "0")).join(""), "fa044b2f42a3fd3b46fb255c");
  assertEquals(
    Array.from(k.hp, (b) => b.toString(16).padStart(2, "0")).join(""),
    "9f50449e04a0e810283a1e9933adedd2",
  );
  const r = sniffQuic(fromHex(RFC9001_CLIENT_INITIAL));
  assert(r && r !== "need-more");
  assertEquals([r.protocol, r.domain, r.client], ["quic", "example.com", "unknown"]);
  const corrupt = fromHex(RFC9001_CLIENT_INITIAL);
  corrupt[500] ^= 1;
  assertEquals(sniffQuic(corrupt), null, "authentication failure");
});

function varint(v: number): number[] {
  if (v < 64) return [v];
  if (v < 16384) return [0x40 | (v >> 8), v & 0xff];
  return [0x80 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

/** Builds a protected QUIC v1 client Initial carrying `frames` (test-side encoder). */
function initialPacket(dcid: Uint8Array, pn: number, frames: number[]): Uint8Array {
  const payload = [...frames];
  while (payload.length < 1100) payload.push(0);
  const keys = clientInitialKeys(dcid);
  const header = [0xc1, 0, 0, 0, 1, dcid.length, ...dcid, 0, 0, ...varint(payload.length + 2 + 16).concat()];
  // force a 2-byte length varint
  header.splice(header.length - varint(payload.length + 18).length);
  header.push(0x40 | ((payload.length + 18) >> 8), (payload.length + 18) & 0xff);
  const pnOffset = header.length;
  header.push(pn >> 8, pn & 0xff);
  const aad = new Uint8Array(header);
  const nonce = keys.iv.slice();
  nonce[11] ^= pn & 0xff;
  nonce[10] ^= pn >> 8;
  const sealed = gcm(keys.key, nonce, aad).encrypt(new Uint8Array(payload));
  const packet = new Uint8Array([...aad, ...sealed]);
  const mask = ecb(keys.hp, { disablePadding: true }).encrypt(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0] ^= mask[0] & 0x0f;
  packet[pnOffset] ^= mask[1];
  packet[pnOffset + 1] ^= mask[2];
  return packet;
}

function cryptoFrame(offset: number, data: Uint8Array): number[] {
  return [0x06, ...varint(offset), ...varint(data.length), ...data];
}

Deno.test("sniffQuic reassembles a ClientHello spread over two Initials and guesses the client", async () => {
  const record = await captureClientHello("quic.example", ["h3"]);
  const hs = record.subarray(5);
  assertEquals(parseClientHello(hs).serverName, "quic.example");
  const dcid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const half = 100;
  // Chromium splits the hello into several CRYPTO frames and adds PING frames.
  const p1 = initialPacket(dcid, 0, [...cryptoFrame(half, hs.subarray(half)), 0x01]);
  const p2 = initialPacket(dcid, 1, [
    0x01,
    ...cryptoFrame(0, hs.subarray(0, 40)),
    ...cryptoFrame(40, hs.subarray(40, half)),
  ]);
  const ctx = newQuicSniffContext();
  assertEquals(sniffQuic(p1, ctx), "need-more");
  const r = sniffQuic(p2, ctx);
  assert(r && r !== "need-more");
  // sing-box counts renegotiation_info (0xff01) or group 0x11ec as Go's crypto/tls; rustls
  // offers 0x11ec (X25519MLKEM768).
  const info = parseClientHello(hs);
  const goTls = info.extensions.includes(0xff01) || info.supportedGroups.includes(0x11ec);
  assertEquals([r.domain, r.client, r.alpn], ["quic.example", goTls ? "quic-go" : "chromium", ["h3"]]);
  // Whole hello in one CRYPTO frame followed by padding only.
  const single = sniffQuic(initialPacket(dcid, 0, cryptoFrame(0, hs)));
  assert(single && single !== "need-more");
  assertEquals(single.client, "unknown");
  // CRYPTO frame last after padding: quic-go's layout.
  const goLayout = sniffQuic(initialPacket(dcid, 0, [0, 0, 0, ...cryptoFrame(0, hs)]));
  assertEquals(goLayout && goLayout !== "need-more" ? goLayout.client : "", "unknown");
  assertEquals(sniffPacket(initialPacket(dcid, 0, cryptoFrame(0, hs)))?.toString(), "[object Object]");
});

Deno.test("guessQuicClient follows sing-box's frame-layout and fingerprint rules", () => {
  const hello = {
    alpn: [],
    cipherSuites: [0x1301, 0x1302],
    extensions: [0, 16],
    supportedVersions: [0x0304],
    supportedGroups: [29, 23],
    signatureAlgorithms: [0x0403],
  };
  assertEquals(guessQuicClient([6], hello), "firefox");
  assertEquals(
    guessQuicClient([6, 0, 0], {
      ...hello,
      supportedVersions: [0x3a3a, 0x0304],
      supportedGroups: [0x4a4a, 29, 23, 24, 25],
    }),
    "safari",
  );
  assertEquals(
    guessQuicClient([6, 0], {
      ...hello,
      cipherSuites: [0x1302],
      supportedGroups: [29],
      signatureAlgorithms: [0x0403],
    }),
    "safari",
  );
  assertEquals(guessQuicClient([0, 0, 6], hello), "quic-go");
  assertEquals(guessQuicClient([6, 1, 6, 0], hello), "chromium");
  assertEquals(guessQuicClient([6, 1, 6, 0], { ...hello, supportedGroups: [0x11ec, 29] }), "quic-go");
  assertEquals(guessQuicClient([6, 0, 0], hello), "unknown");
});

Deno.test("DNS, STUN, BitTorrent, DTLS, SSH, RDP and NTP sniffers recognise their vectors", () => {
  const q = buildQuery("example.com", 1);
  assertEquals(sniffDnsPacket(q), { protocol: "dns" });
  const stream = new Uint8Array([q.length >> 8, q.length & 0xff, ...q]);
  assertEquals(sniffDnsStream(stream), { protocol: "dns" });
  assertEquals(sniffDnsStream(stream.subarray(0, 10)), "need-more");
  const resp = q.slice();
  resp[2] |= 0x80;
  assertEquals(sniffDnsPacket(resp), null);

  const stun = new Uint8Array(20);
  stun.set([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
  assertEquals(sniffStun(stun), { protocol: "stun" });
  assertEquals(sniffStun(new Uint8Array(20)), null);

  const bt = new Uint8Array([19, ...enc("BitTorrent protocol"), 0, 0, 0, 0, 0, 0, 0, 0]);
  assertEquals(sniffBittorrentStream(bt), { protocol: "bittorrent" });
  assertEquals(sniffBittorrentStream(bt.subarray(0, 5)), "need-more");
  assertEquals(sniffBittorrentStream(enc("GET /")), null);
  const utp = new Uint8Array(20);
  utp[0] = 0x41; // ST_SYN, version 1
  assertEquals(sniffBittorrentPacket(utp), { protocol: "bittorrent" });
  const tracker = new Uint8Array(16);
  tracker.set([0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]);
  assertEquals(sniffBittorrentPacket(tracker), { protocol: "bittorrent" });

  const dtls = new Uint8Array(13);
  dtls.set([22, 0xfe, 0xfd]);
  assertEquals(sniffDtls(dtls), { protocol: "dtls" });
  assertEquals(sniffDtls(new Uint8Array(13)), null);

  assertEquals(sniffSsh(enc("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")), {
    protocol: "ssh",
    client: "OpenSSH_9.2p1 Debian-2",
  });
  assertEquals(sniffSsh(enc("SSH-2.0-Open")), "need-more");
  assertEquals(sniffSsh(enc("SSH-1.99-x\r\n")), null);

  const rdp = new Uint8Array([3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0]);
  assertEquals(sniffRdp(rdp), { protocol: "rdp" });
  assertEquals(sniffRdp(rdp.subarray(0, 6)), "need-more");
  assertEquals(sniffRdp(new Uint8Array([3, 0, 0, 20])), null);

  const ntp = new Uint8Array(48);
  ntp[0] = 0x23; // LI 0, VN 4, mode 3
  assertEquals(sniffNtp(ntp), { protocol: "ntp" });
  ntp[0] = 0x24; // mode 4 (server)
  assertEquals(sniffNtp(ntp), null);

  assertEquals(sniffStream(enc("SSH-2.0-x\n")), { protocol: "ssh", client: "x" });
  assertEquals(sniffPacket(q), { protocol: "dns" });
  assertEquals(sniffPacket(q, ["stun"]), null);
});

Deno.test("sniffers never throw on random input (fuzz)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      for (const r of [sniffStream(bytes), sniffPacket(bytes), readClientHello(bytes)]) {
        assert(r === null || r === "need-more" || typeof r === "object");
      }
    }),
    { numRuns: 3000 },
  );
  // Mutations of real vectors exercise deeper paths.
  const base = fromHex(RFC9001_CLIENT_INITIAL);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const b = base.slice();
      b[i] ^= x;
      const r = sniffQuic(b);
      assert(r === null || r === "need-more" || typeof r === "object");
    }),
    { numRuns: 300 },
  );
  const http = enc("GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n");
  fc.assert(
    fc.property(fc.integer({ min: 0, max: http.length }), (n) => {
      const r = sniffHttp(http.subarray(0, n));
      assert(r === null || r === "need-more" || typeof r === "object");
    }),
  );
});
