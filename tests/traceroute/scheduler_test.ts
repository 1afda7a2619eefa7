import { assert, assertEquals, assertRejects } from "./_assert.ts";
import {
  clipResults,
  parallelDeadlineMs,
  type ProbeResponse,
  toHops,
  type TracerouteDriver,
  tracerouteParallel,
  tracerouteSerial,
} from "../../src/traceroute/scheduler.ts";

/** A fake network: TTL t answers after `delays[t]` ms from `ips[t]` ("" = silent); dest at `destTtl`. */
class FakeDriver implements TracerouteDriver {
  sent: number[] = [];
  #queue: ProbeResponse[] = [];
  #wake: (() => void) | null = null;
  constructor(
    private ips: string[],
    private destTtl: number,
    private delayMs = 2,
    private extra?: ProbeResponse[],
  ) {}
  sendProbe(ttl: number): Promise<void> {
    this.sent.push(ttl);
    const ip = ttl >= this.destTtl ? this.ips[this.destTtl] : this.ips[ttl];
    if (ip) {
      setTimeout(() => {
        this.#queue.push({ ttl, ip, rttMs: this.delayMs, isDest: ttl >= this.destTtl });
        if (this.extra) this.#queue.push(...this.extra.splice(0));
        this.#wake?.();
      }, this.delayMs);
    }
    return Promise.resolve();
  }
  async receiveProbe(timeoutMs: number): Promise<ProbeResponse | null> {
    if (!this.#queue.length) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, timeoutMs);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.#queue.shift() ?? null;
  }
}

const IPS = ["", "10.99.1.1", "10.99.2.2", "10.99.3.2", "10.99.4.2"];

Deno.test("tracerouteParallel() stops sending at the destination and clips after it", async () => {
  const d = new FakeDriver(IPS, 4, 2);
  const res = await tracerouteParallel(d, { minTtl: 1, maxTtl: 30, timeoutMs: 300, sendDelayMs: 10 });
  assertEquals(res.map((r) => r?.ip), ["10.99.1.1", "10.99.2.2", "10.99.3.2", "10.99.4.2"]);
  assert(d.sent.length < 30, `sent ${d.sent.length}`);
});

Deno.test("tracerouteParallel() with earlyFinish ends well before the deadline, same hops", async () => {
  const p = { minTtl: 1, maxTtl: 30, timeoutMs: 1000, sendDelayMs: 5 };
  const t0 = performance.now();
  const early = await tracerouteParallel(new FakeDriver(IPS, 4), { ...p, earlyFinish: true });
  const earlyMs = performance.now() - t0;
  const t1 = performance.now();
  const full = await tracerouteParallel(new FakeDriver(IPS, 4), p);
  const fullMs = performance.now() - t1;
  assertEquals(early.map((r) => r?.ip), full.map((r) => r?.ip));
  assert(earlyMs < 200, `early ${earlyMs}`);
  assert(fullMs >= parallelDeadlineMs(p) - 20, `full ${fullMs}`);
});

Deno.test("tracerouteParallel() keeps a silent hop empty and waits the deadline", async () => {
  const ips = ["", "10.99.1.1", "", "10.99.3.2", "10.99.4.2"];
  const res = await tracerouteParallel(new FakeDriver(ips, 4), {
    minTtl: 1,
    maxTtl: 8,
    timeoutMs: 100,
    sendDelayMs: 5,
    earlyFinish: true,
  });
  assertEquals(res.map((r) => r?.ip ?? null), ["10.99.1.1", null, "10.99.3.2", "10.99.4.2"]);
});

Deno.test("tracerouteParallel() fails on a TTL outside [min,max] and rejects min > max", async () => {
  const bad = new FakeDriver(IPS, 4, 2, [{ ttl: 99, ip: "1.1.1.1", rttMs: 1, isDest: false }]);
  await assertRejects(
    () => tracerouteParallel(bad, { minTtl: 1, maxTtl: 30, timeoutMs: 300, sendDelayMs: 5 }),
    Error,
    "invalid TTL: expected TTL in [1, 30], got 99",
  );
  await assertRejects(
    () => tracerouteParallel(new FakeDriver(IPS, 4), { minTtl: 1, maxTtl: 0, timeoutMs: 10, sendDelayMs: 5 }),
    Error,
    "min TTL must be less than or equal to max TTL",
  );
});

Deno.test("tracerouteParallel(): a destination reply replaces an earlier non-destination one", async () => {
  const extra = [{ ttl: 1, ip: "10.99.4.2", rttMs: 1, isDest: true }];
  const res = await tracerouteParallel(new FakeDriver(IPS, 4, 2, extra), {
    minTtl: 1,
    maxTtl: 5,
    timeoutMs: 100,
    sendDelayMs: 5,
  });
  assertEquals(res.length, 1);
  assertEquals(res[0]?.isDest, true);
});

Deno.test("tracerouteSerial() probes one TTL at a time and stops at the destination", async () => {
  const d = new FakeDriver(IPS, 4, 1);
  const res = await tracerouteSerial(d, { minTtl: 1, maxTtl: 30, timeoutMs: 200, sendDelayMs: 5 });
  assertEquals(d.sent, [1, 2, 3, 4]);
  assertEquals(res.map((r) => r?.ip), ["10.99.1.1", "10.99.2.2", "10.99.3.2", "10.99.4.2"]);
  const silent = new FakeDriver(["", "10.99.1.1", "", "10.99.3.2"], 3, 1);
  const t0 = performance.now();
  const r2 = await tracerouteSerial(silent, { minTtl: 1, maxTtl: 5, timeoutMs: 60, sendDelayMs: 5 });
  assert(performance.now() - t0 >= 60, "waited the per-probe timeout for the silent hop");
  assertEquals(r2.map((r) => r?.ip ?? null), ["10.99.1.1", null, "10.99.3.2"]);
});

Deno.test("clipResults() and toHops() number hops from min TTL and find the destination", () => {
  const r = (ttl: number, isDest = false): ProbeResponse => ({
    ttl,
    ip: `10.0.0.${ttl}`,
    rttMs: 0.5,
    isDest,
  });
  const clipped = clipResults(1, [null, r(1), null, r(3, true), r(4, true)]);
  assertEquals(clipped.length, 3);
  const { hops, dest } = toHops(1, clipped);
  assertEquals(hops[1], { ttl: 2, ip_address: "", rtt: 0, reachable: false });
  assertEquals(dest?.ttl, 3);
  let threw = false;
  try {
    toHops(1, [r(2)]);
  } catch (e) {
    threw = (e as Error).message === "probe TTL mismatch: expected 1, got 2";
  }
  assert(threw);
});

Deno.test("tracerouteParallel() returns the context error when cancelled (ICMP honours the request)", async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  const t0 = performance.now();
  await assertRejects(
    () =>
      tracerouteParallel(new FakeDriver(["", "10.99.1.1", "", ""], 9), {
        minTtl: 1,
        maxTtl: 5,
        timeoutMs: 5000,
        sendDelayMs: 5,
        signal: ac.signal,
      }),
    Error,
    "context canceled",
  );
  assert(performance.now() - t0 < 1000);
});
