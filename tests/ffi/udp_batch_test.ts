/**
 * ffi/udp_batch.ts: sockaddr codec (known answers + fast-check round trips), recvmmsg/sendmmsg
 * through the shared poller, and UDP_SEGMENT/UDP_GRO offload against both a GRO socket and a
 * plain `Deno.listenDatagram` peer.
 */
import { assert, assertEquals, assertThrows } from "../paniq/_assert.ts";
import fc from "fast-check";
import { UdpBatchSocket } from "../../ffi/udp_batch.ts";
import { growOwnSocketBuffer } from "../../ffi/mmsg.ts";
import { decodeSockaddr, encodeSockaddr, sameSockaddr } from "../../ffi/sockaddr.ts";
import { getPoller } from "../../ffi/poller.ts";

const linux = Deno.build.os === "linux";

Deno.test("encodeSockaddr/decodeSockaddr known answers", () => {
  assertEquals(
    encodeSockaddr("127.0.0.1", 443),
    new Uint8Array([2, 0, 1, 187, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
  );
  const v6 = encodeSockaddr("2001:db8::1", 8080);
  assertEquals(v6.length, 28);
  assertEquals([v6[0], v6[1], v6[2], v6[3]], [10, 0, 0x1f, 0x90]);
  assertEquals([...v6.subarray(8, 24)], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assertEquals(decodeSockaddr(v6), { hostname: "2001:db8::1", port: 8080 });
  assertEquals(decodeSockaddr(encodeSockaddr("::1", 1)), { hostname: "::1", port: 1 });
  assertEquals(decodeSockaddr(encodeSockaddr("::", 0)), { hostname: "::", port: 0 });
  assertEquals(decodeSockaddr(encodeSockaddr("[fe80::1:0:0:2]", 5)), { hostname: "fe80::1:0:0:2", port: 5 });
  // Deno (Rust) prints v4-mapped addresses in dotted form.
  assertEquals(decodeSockaddr(encodeSockaddr("::ffff:10.1.2.3", 9)), {
    hostname: "::ffff:10.1.2.3",
    port: 9,
  });
  assertThrows(() => encodeSockaddr("localhost", 1), /not an IP literal/);
  assertThrows(() => encodeSockaddr("256.1.1.1", 1), /not an IP literal/);
  assertThrows(() => encodeSockaddr("1::2::3", 1), /not an IP literal/);
  assert(sameSockaddr(encodeSockaddr("10.0.0.1", 5), encodeSockaddr("10.0.0.1", 5)));
  assert(!sameSockaddr(encodeSockaddr("10.0.0.1", 5), encodeSockaddr("10.0.0.1", 6)));
  assert(!sameSockaddr(encodeSockaddr("10.0.0.1", 5), encodeSockaddr("::ffff:10.0.0.1", 5)));
});

Deno.test("sockaddr codec round-trips random IPv4/IPv6 addresses (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 65535 }),
      (a, port) => {
        const { hostname, port: p } = decodeSockaddr(encodeSockaddr([...a].join("."), port));
        assertEquals(encodeSockaddr(hostname, p), encodeSockaddr([...a].join("."), port));
      },
    ),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 65535 }),
      (a, port) => {
        const sa = new Uint8Array(28);
        sa[0] = 10;
        sa[2] = port >> 8;
        sa[3] = port & 0xff;
        sa.set(a, 8);
        const { hostname, port: p } = decodeSockaddr(sa);
        assertEquals(p, port);
        assertEquals(encodeSockaddr(hostname, p).subarray(8, 24), a);
      },
    ),
  );
  // Random text never crashes the parser: it is an address or a SyntaxError.
  fc.assert(
    fc.property(fc.string({ maxLength: 45 }), (s) => {
      try {
        encodeSockaddr(s, 1);
      } catch (e) {
        assert(e instanceof SyntaxError);
      }
    }),
  );
});

function collect(sock: UdpBatchSocket, want: number): Promise<{ data: Uint8Array[]; from: Uint8Array[] }> {
  const data: Uint8Array[] = [];
  const from: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${data.length} of ${want} datagrams`)), 5000);
    sock.start((d, f) => {
      data.push(d.slice());
      from.push(f.slice());
      if (data.length === want) {
        clearTimeout(timer);
        resolve({ data, from });
      }
    });
  });
}

Deno.test({
  name: "UdpBatchSocket: 300 datagrams of varied sizes via sendmmsg/recvmmsg, echoed back",
  ignore: !linux,
  async fn() {
    const a = UdpBatchSocket.bind("127.0.0.1", 0);
    const b = UdpBatchSocket.bind("127.0.0.1", 0, { batch: 8 });
    try {
      const N = 300;
      const toB = encodeSockaddr("127.0.0.1", b.port);
      const atB = collect(b, N);
      for (let i = 0; i < N; i++) {
        const d = new Uint8Array(1 + (i * 37) % 1400).fill(i & 0xff);
        d[0] = i >> 8;
        a.send(d, toB);
      }
      a.flush();
      const got = await atB;
      for (let i = 0; i < N; i++) {
        assertEquals(got.data[i].length, 1 + (i * 37) % 1400);
        assertEquals(got.data[i][0], i >> 8);
        assertEquals(decodeSockaddr(got.from[i]), { hostname: "127.0.0.1", port: a.port });
      }
      // Echo everything back through reserve/commit.
      const atA = collect(a, N);
      for (let i = 0; i < N; i++) {
        const buf = b.reserve();
        buf.set(got.data[i]);
        b.commit(got.data[i].length, got.from[i]);
      }
      b.flush();
      const back = await atA;
      assertEquals(back.data.map((d) => d.length), got.data.map((d) => d.length));
      assertEquals(a.sent, N);
      assertEquals(b.received, N);
    } finally {
      a.close();
      b.close();
      await getPoller().idle();
    }
  },
});

Deno.test({
  name: "UdpBatchSocket offload: a GSO run arrives intact at a GRO socket and at a plain Deno socket",
  ignore: !linux,
  async fn() {
    const tx = UdpBatchSocket.bind("127.0.0.1", 0, { offload: true, batch: 32 });
    const rx = UdpBatchSocket.bind("127.0.0.1", 0, { offload: true, batch: 4 });
    const plain = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const sizes = [...Array(20).fill(1200), 700, 1200, 1200, 3];
    const pkt = (i: number) => new Uint8Array(sizes[i]).fill(i + 1);
    try {
      const got = collect(rx, sizes.length);
      const to = encodeSockaddr("127.0.0.1", rx.port);
      sizes.forEach((_, i) => tx.send(pkt(i), to));
      tx.flush();
      const r = await got;
      assertEquals(r.data.map((d) => d.length), sizes);
      r.data.forEach((d, i) => assertEquals(d, pkt(i)));
      // Fewer sendmmsg entries than datagrams: the runs went out as UDP_SEGMENT messages.
      assertEquals(tx.sent, sizes.length);
      assert(
        rx.received < sizes.length,
        `GRO delivered ${rx.received} buffers for ${sizes.length} datagrams`,
      );
      const toPlain = encodeSockaddr("127.0.0.1", (plain.addr as Deno.NetAddr).port);
      sizes.forEach((_, i) => tx.send(pkt(i), toPlain));
      tx.flush();
      for (let i = 0; i < sizes.length; i++) {
        const [d] = await plain.receive();
        assertEquals(d, pkt(i));
      }
      assertEquals(tx.sendDrops, 0);
    } finally {
      tx.close();
      rx.close();
      plain.close();
      await getPoller().idle();
    }
  },
});

Deno.test({
  name: "UdpBatchSocket.connect: sends without an address go to the peer; other senders are filtered",
  ignore: !linux,
  async fn() {
    const a = UdpBatchSocket.bind("127.0.0.1", 0);
    const b = UdpBatchSocket.bind("127.0.0.1", 0);
    const stranger = UdpBatchSocket.bind("127.0.0.1", 0);
    try {
      assertThrows(() => a.send(new Uint8Array([1]), null), /not connected/);
      const toB = encodeSockaddr("127.0.0.1", b.port);
      a.connect(toB);
      b.connect(encodeSockaddr("127.0.0.1", a.port));
      const atA = collect(a, 3);
      stranger.send(new Uint8Array([0xbad & 0xff]), encodeSockaddr("127.0.0.1", a.port));
      stranger.flush();
      for (let i = 1; i <= 3; i++) b.send(new Uint8Array(100 + i).fill(i), null);
      b.flush();
      const got = await atA;
      assertEquals(got.data.map((d) => d[0]), [1, 2, 3]);
      assertEquals(decodeSockaddr(got.from[0]), { hostname: "127.0.0.1", port: b.port });
      assertEquals(b.sendDrops, 0);
    } finally {
      a.close();
      b.close();
      stranger.close();
      await getPoller().idle();
    }
  },
});

Deno.test({
  name: "growOwnSocketBuffer finds this process's socket by port, and nothing on a free port",
  ignore: !linux,
  fn() {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      assert(growOwnSocketBuffer((s.addr as Deno.NetAddr).port, 1 << 20));
      const free = UdpBatchSocket.bind("127.0.0.1", 0);
      const port = free.port;
      free.close();
      assert(!growOwnSocketBuffer(port));
    } finally {
      s.close();
    }
  },
});
