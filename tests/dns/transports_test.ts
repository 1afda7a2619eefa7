import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { buildQuery } from "../../src/dns/client.ts";
import { decodeMessage, messageToAddresses } from "../../src/dns/message.ts";
import { FakeIpStore, FakeIpTransport, FileFakeIpStorage } from "../../src/dns/transports/fakeip.ts";
import { HostsTransport } from "../../src/dns/transports/hosts.ts";
import { HttpsTransport } from "../../src/dns/transports/https.ts";
import { LocalTransport, nameList, parseResolvConf } from "../../src/dns/transports/local.ts";
import { RcodeTransport } from "../../src/dns/transports/rcode.ts";
import { TcpTransport } from "../../src/dns/transports/tcp.ts";
import { TlsTransport } from "../../src/dns/transports/tls.ts";
import { UdpTransport } from "../../src/dns/transports/udp.ts";
import { RCODE, TYPE } from "../../src/dns/wire.ts";
import { freePort, hasCommand, makeTestCert, startDnsmasq, startUnbound } from "./_peers.ts";

const HAVE_DNSMASQ = hasCommand("dnsmasq");
const HAVE_UNBOUND = hasCommand("unbound") && hasCommand("openssl");

function answerOf(bytes: Uint8Array) {
  const m = decodeMessage(bytes);
  return { rcode: m.flags & 0xf, addrs: messageToAddresses(m), m };
}

Deno.test({
  name: "UdpTransport and TcpTransport answer from dnsmasq; TC over UDP is retried over TCP",
  ignore: !HAVE_DNSMASQ,
  async fn() {
    const peer = await startDnsmasq();
    try {
      const udp = new UdpTransport({ tag: "u", server: "127.0.0.1", serverPort: peer.port });
      const tcp = new TcpTransport({ tag: "t", server: "127.0.0.1", serverPort: peer.port });
      for (const t of [udp, tcp]) {
        const q = buildQuery("x.test", TYPE.A);
        const r = await t.exchange(q);
        assertEquals(r[0], q[0]);
        assertEquals(r[1], q[1]);
        assertEquals(answerOf(r).addrs, ["10.99.9.9"]);
        assertEquals(answerOf(await t.exchange(buildQuery("sub.x.test", TYPE.AAAA))).addrs, ["fd00::99"]);
        assertEquals(answerOf(await t.exchange(buildQuery("nope.test", TYPE.A))).rcode, RCODE.NXDOMAIN);
      }
      // 12 TXT records of 63 bytes do not fit 512 bytes: dnsmasq sets TC, the transport asks over TCP.
      const big = answerOf(await udp.exchange(buildQuery("big.test", TYPE.TXT)));
      assertEquals(big.m.answers.length, 12);
      assert((big.m.flags & 0x0200) === 0, "final answer is not truncated");
      await udp.close();
      await tcp.close();
    } finally {
      await peer.close();
    }
  },
});

Deno.test({
  name: "UdpTransport rejects on abort when the server does not answer",
  async fn() {
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const udp = new UdpTransport({
        tag: "u",
        server: "127.0.0.1",
        serverPort: (silent.addr as Deno.NetAddr).port,
      });
      const started = Date.now();
      await assertRejects(() => udp.exchange(buildQuery("x.test", TYPE.A), AbortSignal.timeout(200)), Error);
      assert(Date.now() - started < 2000);
    } finally {
      silent.close();
    }
  },
});

Deno.test({
  name: "TlsTransport (DoT) and HttpsTransport (DoH, POST and GET) answer from unbound with a test CA",
  ignore: !HAVE_UNBOUND,
  async fn() {
    const cert = await makeTestCert();
    const peer = await startUnbound(cert);
    try {
      const tls = new TlsTransport({
        tag: "dot",
        server: "127.0.0.1",
        serverPort: peer.ports.tls,
        tls: { serverName: "dns.test", caCerts: [cert.caPem] },
      });
      const r1 = answerOf(await tls.exchange(buildQuery("u.test", TYPE.A)));
      assertEquals(r1.addrs, ["10.88.8.8"]);
      // Second query reuses the pooled connection.
      assertEquals(answerOf(await tls.exchange(buildQuery("u.test", TYPE.AAAA))).addrs, ["fd00::88"]);
      await tls.close();

      for (
        const [method, tls] of [
          ["POST", { caCerts: [cert.caPem] }],
          ["GET", { caCerts: [cert.caPem] }],
          ["POST", { serverName: "dns.test", caCerts: [cert.caPem] }],
          ["GET", { serverName: "wrong.name", insecure: true }],
        ] as const
      ) {
        const doh = new HttpsTransport({
          tag: "doh",
          server: "127.0.0.1",
          serverPort: peer.ports.https,
          method,
          tls: { ...tls, caCerts: "caCerts" in tls ? [...tls.caCerts] : undefined },
        });
        const q = buildQuery("multi.test", TYPE.A);
        const raw = await doh.exchange(q);
        assertEquals((raw[0] << 8) | raw[1], (q[0] << 8) | q[1], "ID restored after DoH's ID 0");
        assertEquals(answerOf(raw).addrs.sort(), ["10.1.0.1", "10.1.0.2"]);
        // A second query shares the HTTP/2 connection.
        assertEquals(answerOf(await doh.exchange(buildQuery("u.test", TYPE.AAAA))).addrs, ["fd00::88"]);
        await doh.close();
      }
      const badCa = new HttpsTransport({ tag: "doh", server: "127.0.0.1", serverPort: peer.ports.https });
      await assertRejects(() => badCa.exchange(buildQuery("u.test", TYPE.A)), Error);
      await badCa.close();

      // Wrong trust anchor: the handshake fails.
      const untrusted = new TlsTransport({
        tag: "bad",
        server: "127.0.0.1",
        serverPort: peer.ports.tls,
        tls: { serverName: "dns.test" },
      });
      await assertRejects(() => untrusted.exchange(buildQuery("u.test", TYPE.A)), Error);
      await untrusted.close();
      // insecure skips verification (node:tls path of the shared TLS client).
      const insecure = new TlsTransport({
        tag: "insecure",
        server: "127.0.0.1",
        serverPort: peer.ports.tls,
        tls: { serverName: "other.name", insecure: true },
      });
      assertEquals(answerOf(await insecure.exchange(buildQuery("u.test", TYPE.A))).addrs, ["10.88.8.8"]);
      await insecure.close();
    } finally {
      await peer.close();
      await Deno.remove(cert.dir, { recursive: true });
    }
  },
});

Deno.test("HostsTransport answers predefined names and hosts-file names, NXDOMAIN otherwise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/hosts`;
    await Deno.writeTextFile(path, "# comment\n10.5.5.5 file.test alias.test\nfd00::5 file.test\n");
    const hosts = new HostsTransport({
      tag: "h",
      path: [path],
      predefined: { "Pre.Test": ["1.1.1.1", "::1"] },
    });
    assertEquals(answerOf(await hosts.exchange(buildQuery("pre.test", TYPE.A))).addrs, ["1.1.1.1"]);
    assertEquals(answerOf(await hosts.exchange(buildQuery("pre.test", TYPE.AAAA))).addrs, ["::1"]);
    assertEquals(answerOf(await hosts.exchange(buildQuery("ALIAS.test", TYPE.A))).addrs, ["10.5.5.5"]);
    assertEquals(answerOf(await hosts.exchange(buildQuery("file.test", TYPE.AAAA))).addrs, ["fd00::5"]);
    const r = answerOf(await hosts.exchange(buildQuery("missing.test", TYPE.A)));
    assertEquals(r.rcode, RCODE.NXDOMAIN);
    assertEquals(answerOf(await hosts.exchange(buildQuery("file.test", TYPE.TXT))).rcode, RCODE.NXDOMAIN);
    assertEquals(answerOf(await hosts.exchange(buildQuery("file.test", TYPE.A))).m.answers[0].ttl, 600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseResolvConf and nameList follow Go's resolver", () => {
  const c = parseResolvConf(
    "# x\nnameserver 127.0.0.1\nnameserver fe80::1%eth0\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n" +
      "search corp.test lab.test\noptions timeout:1 attempts:3 ndots:2 rotate use-vc\n",
  );
  assertEquals(c.nameservers, ["127.0.0.1", "fe80::1", "10.0.0.3"], "at most three");
  assertEquals([c.timeoutMs, c.attempts, c.ndots, c.rotate, c.useTcp], [1000, 3, 2, true, true]);
  assertEquals(c.search, ["corp.test.", "lab.test."]);
  assertEquals(nameList(c, "host"), ["host.corp.test.", "host.lab.test.", "host."]);
  assertEquals(nameList(c, "a.b.c"), ["a.b.c.", "a.b.c.corp.test.", "a.b.c.lab.test."]);
  assertEquals(nameList(c, "rooted.test."), ["rooted.test."]);
  assertEquals(nameList(c, "hidden.onion."), []);
  assertEquals(nameList(c, "hidden.onion"), ["hidden.onion.corp.test.", "hidden.onion.lab.test."]);
  const d = parseResolvConf("", ["home.test."]);
  assertEquals([d.nameservers, d.search, d.ndots, d.attempts], [["127.0.0.1", "::1"], ["home.test."], 1, 2]);
  assertEquals(parseResolvConf("domain one.test\n").search, ["one.test."]);
});

Deno.test({
  name: "LocalTransport answers from the hosts file, then the resolv.conf server with its search list",
  ignore: !HAVE_DNSMASQ || Deno.uid() !== 0,
  async fn() {
    const peer = await startDnsmasq([], "127.83.0.1", 53);
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(
        `${dir}/resolv.conf`,
        "nameserver 127.83.0.1\nsearch x.test\noptions timeout:1 attempts:1\n",
      );
      await Deno.writeTextFile(`${dir}/hosts`, "10.1.1.1 hosted.test\n");
      const local = new LocalTransport({
        tag: "local",
        resolvConfPath: `${dir}/resolv.conf`,
        hostsPath: `${dir}/hosts`,
      });
      assertEquals(answerOf(await local.exchange(buildQuery("x.test", TYPE.A))).addrs, ["10.99.9.9"]);
      assertEquals(answerOf(await local.exchange(buildQuery("hosted.test", TYPE.A))).addrs, ["10.1.1.1"]);
      const searched = answerOf(await local.exchange(buildQuery("short", TYPE.A)));
      assertEquals(searched.addrs, ["10.99.9.9"], "short → short.x.test via the search list");
      await Deno.writeTextFile(`${dir}/resolv2.conf`, "nameserver 127.83.0.1\ndomain invalid.test\n");
      const plain = new LocalTransport({
        tag: "local",
        resolvConfPath: `${dir}/resolv2.conf`,
        hostsPath: `${dir}/hosts`,
      });
      assertEquals(answerOf(await plain.exchange(buildQuery("nope.test", TYPE.A))).rcode, RCODE.NXDOMAIN);
      const txt = answerOf(await local.exchange(buildQuery("big.test", TYPE.TXT)));
      assertEquals(txt.m.answers.length, 12, "single-request path, TC retried over TCP");
    } finally {
      await peer.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("RcodeTransport answers with its RCODE", async () => {
  const t = new RcodeTransport("r", RCODE.REFUSED);
  const r = answerOf(await t.exchange(buildQuery("a.test", TYPE.A)));
  assertEquals(r.rcode, RCODE.REFUSED);
  assertEquals(r.m.answers.length, 0);
});

Deno.test("FakeIpStore allocates from network+2, reuses per domain, wraps before the broadcast address", () => {
  const store = new FakeIpStore({ inet4Range: "198.18.0.0/30", inet6Range: "fc00::/126" });
  assertEquals(store.create("a.test", false), "198.18.0.2");
  assertEquals(store.create("a.test", false), "198.18.0.2");
  // Next would be .3, the last address of the /30: wrap to .2 and evict a.test.
  assertEquals(store.create("b.test", false), "198.18.0.2");
  assertEquals(store.lookup("198.18.0.2"), "b.test");
  assertEquals(store.storage.loadDomain("a.test", false), undefined);
  assertEquals(store.create("a.test", true), "fc00::2");
  assert(store.contains("198.18.0.1"));
  assert(!store.contains("10.0.0.1"));
  const wide = new FakeIpStore({ inet4Range: "198.18.0.0/15" });
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(wide.create(`d${i}.test`, false));
  assertEquals(seen.size, 100);
  assertEquals(wide.lookup("198.18.0.101"), "d99.test");
  try {
    wide.create("v6.test", true);
    throw new Error("expected failure");
  } catch (e) {
    assert(e instanceof RangeError);
  }
});

Deno.test("FakeIpTransport answers A/AAAA, rejects other types, and persists through FileFakeIpStorage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/fakeip.json`;
    const t1 = new FakeIpTransport({
      tag: "f",
      inet4Range: "198.18.0.0/15",
      storage: new FileFakeIpStorage(path),
    });
    assertEquals(answerOf(await t1.exchange(buildQuery("one.test", TYPE.A))).addrs, ["198.18.0.2"]);
    assertEquals(answerOf(await t1.exchange(buildQuery("two.test", TYPE.A))).addrs, ["198.18.0.3"]);
    await assertRejects(() => t1.exchange(buildQuery("one.test", TYPE.TXT)), TypeError);
    await t1.close();
    const t2 = new FakeIpTransport({
      tag: "f",
      inet4Range: "198.18.0.0/15",
      storage: new FileFakeIpStorage(path),
    });
    assertEquals(t2.store.lookup("198.18.0.3"), "two.test");
    assertEquals(answerOf(await t2.exchange(buildQuery("three.test", TYPE.A))).addrs, ["198.18.0.4"]);
    await t2.close();
    // A different range resets the store.
    const t3 = new FakeIpTransport({
      tag: "f",
      inet4Range: "198.20.0.0/16",
      storage: new FileFakeIpStorage(path),
    });
    assertEquals(t3.store.lookup("198.18.0.3"), undefined);
    await t3.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("freePort gives a bindable port", () => {
  const p = freePort();
  assert(p > 0);
});
