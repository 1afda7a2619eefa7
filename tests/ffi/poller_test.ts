import { assert, assertEquals } from "../traceroute/_assert.ts";
import { C, libc } from "../../ffi/libc.ts";
import { Poller } from "../../ffi/poller.ts";
import { DgramSocket } from "../../ffi/dgram_socket.ts";

const linux = Deno.build.os === "linux";

function udpPair(): { a: DgramSocket; b: DgramSocket } {
  const a = new DgramSocket(false, C.IPPROTO_UDP);
  const b = new DgramSocket(false, C.IPPROTO_UDP);
  a.connect(new Uint8Array([127, 0, 0, 1]), 9);
  b.connect(new Uint8Array([127, 0, 0, 1]), a.localAddr().port);
  a.connect(new Uint8Array([127, 0, 0, 1]), b.localAddr().port);
  return { a, b };
}

function drain(fd: number): number {
  const buf = new Uint8Array(2048);
  let n = 0;
  while (Number(libc().recvfrom(fd, buf, 2048n, C.MSG_DONTWAIT, null, null)) >= 0) n++;
  return n;
}

Deno.test({
  name: "Poller delivers readiness, wakes on register/close through the eventfd, and stops when idle",
  ignore: !linux,
  async fn() {
    const poller = new Poller();
    poller.maxWaitMs = 60_000; // only the eventfd can interrupt a wait this long
    const { a, b } = udpPair();
    try {
      let got = 0;
      let notify!: () => void;
      const reg = poller.register(a.fd, C.POLLIN, () => {
        got += drain(a.fd);
        notify?.();
      });
      const first = new Promise<void>((r) => notify = r);
      b.send(new Uint8Array([1]));
      await first;
      assertEquals(got, 1);
      // a second fd registered while the poll is pending must be picked up at once
      const c = udpPair();
      let got2 = 0;
      let reg2!: { close(): void };
      const second = new Promise<void>((r) => {
        reg2 = poller.register(c.a.fd, C.POLLIN, () => {
          got2 += drain(c.a.fd);
          r();
        });
      });
      const t0 = performance.now();
      c.b.send(new Uint8Array([2]));
      await second;
      assert(performance.now() - t0 < 1000, "woken by the eventfd, not the long timeout");
      assertEquals(got2, 1);
      reg.close();
      assertEquals(poller.size, 1);
      // closing the last registration ends the loop promptly (the eventfd interrupts the wait)
      reg2.close();
      const t1 = performance.now();
      await poller.idle();
      assert(performance.now() - t1 < 1000);
      assertEquals(poller.size, 0);
      c.a.close();
      c.b.close();
    } finally {
      a.close();
      b.close();
    }
  },
  sanitizeOps: false,
  sanitizeResources: false,
});

Deno.test({
  name: "Poller keeps one blocking-pool thread: 40 idle sockets do not delay file I/O",
  ignore: !linux,
  async fn() {
    const poller = new Poller();
    const socks = Array.from({ length: 40 }, () => udpPair());
    const regs = socks.map((s) => poller.register(s.a.fd, C.POLLIN, () => drain(s.a.fd)));
    try {
      await new Promise((r) => setTimeout(r, 20));
      const t0 = performance.now();
      await Deno.readFile(new URL(import.meta.url).pathname);
      assert(performance.now() - t0 < 100, `readFile took ${performance.now() - t0} ms`);
    } finally {
      for (const r of regs) r.close();
      for (const s of socks) {
        s.a.close();
        s.b.close();
      }
      await poller.idle();
      assertEquals(poller.size, 0);
    }
  },
});

Deno.test({
  name: "Poller re-polls synchronously while fds stay ready, yet still yields to timers",
  ignore: !linux,
  async fn() {
    const poller = new Poller();
    poller.syncWaitMs = 2;
    const { a, b } = udpPair();
    try {
      // Ping-pong: every datagram read on one socket sends the next from it, 200 in all.
      let hops = 0;
      let stop = false;
      let finished!: () => void;
      const done = new Promise<void>((r) => finished = r);
      const hop = (from: DgramSocket, fd: number) => () => {
        drain(fd);
        hops++;
        if (hops === 200) finished();
        if (!stop) from.send(new Uint8Array([hops & 0xff]));
      };
      const ra = poller.register(a.fd, C.POLLIN, hop(a, a.fd));
      const rb = poller.register(b.fd, C.POLLIN, hop(b, b.fd));
      a.send(new Uint8Array([0]));
      await done;
      // Most hops were picked up by a synchronous re-poll, not a blocking-pool round trip.
      assert(poller.stats.asyncPolls < 50, `async polls ${poller.stats.asyncPolls} for ${hops} hops`);
      assert(poller.stats.syncPolls >= 150, `sync polls ${poller.stats.syncPolls}`);
      // The ping-pong never stops by itself, yet a timer still fires within a few slices.
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 5));
      const late = performance.now() - t0;
      assert(late < 200, `timer delayed ${late} ms`);
      stop = true;
      ra.close();
      rb.close();
      await poller.idle();
    } finally {
      a.close();
      b.close();
    }
  },
});
