import { assertEquals } from "./_assert.ts";
import { ReplayFilter, WINDOW_SIZE } from "../../src/protocol/paniq/replay_window.ts";
import { REJECT_AFTER_MESSAGES } from "../../src/protocol/paniq/constants.ts";
import { ReplayCache } from "../../src/protocol/paniq/replay_cache.ts";
import { RateLimiter } from "../../src/protocol/paniq/rate_limiter.ts";

Deno.test("ReplayFilter follows the WireGuard test sequence", () => {
  const f = new ReplayFilter();
  const T = BigInt(WINDOW_SIZE + 1);
  const R = REJECT_AFTER_MESSAGES;
  const seq: [bigint, boolean][] = [
    [0n, true],
    [1n, true],
    [1n, false],
    [9n, true],
    [8n, true],
    [7n, true],
    [7n, false],
    [T, true],
    [T - 1n, true],
    [T - 1n, false],
    [T - 2n, true],
    [2n, true],
    [2n, false],
    [T + 16n, true],
    [3n, false],
    [T + 16n, false],
    [T * 4n, true],
    [T * 4n - (T - 1n), true],
    [10n, false],
    [T * 4n - T, false],
    [T * 4n - (T + 1n), false],
    [T * 4n - (T - 2n), true],
    [T * 4n + 1n - T, false],
    [0n, false],
    [R, false],
    [R - 1n, true],
    [R, false],
    [R - 1n, false],
    [R - 2n, true],
    [R + 1n, false],
    [R + 2n, false],
    [R - 2n, false],
    [R - 3n, true],
    [0n, false],
  ];
  seq.forEach(([n, want], i) => assertEquals(f.validate(n), want, `step ${i + 1}: ${n}`));
});

Deno.test("ReplayFilter bulk runs (Go bulk tests 1-6)", () => {
  const f = new ReplayFilter();
  const W = BigInt(WINDOW_SIZE);
  const run = (n: bigint, want: boolean) => assertEquals(f.validate(n), want, `${n}`);
  f.reset();
  for (let i = 1n; i <= W; i++) run(i, true);
  run(0n, true);
  run(0n, false);
  f.reset();
  for (let i = 2n; i <= W + 1n; i++) run(i, true);
  run(1n, true);
  run(0n, false);
  f.reset();
  for (let i = W + 1n; i > 0n; i--) run(i, true);
  f.reset();
  for (let i = W + 2n; i > 1n; i--) run(i, true);
  run(0n, false);
  f.reset();
  for (let i = W; i > 0n; i--) run(i, true);
  run(W + 1n, true);
  run(0n, false);
  f.reset();
  for (let i = W; i > 0n; i--) run(i, true);
  run(0n, true);
  run(W + 1n, true);
});

Deno.test("ReplayFilter honours a custom limit", () => {
  const f = new ReplayFilter();
  assertEquals(f.validate(9n, 10n), true);
  assertEquals(f.validate(10n, 10n), false);
});

Deno.test("ReplayCache hits and evicts at capacity 2 (Go TestReplayCacheSeen)", () => {
  const c = new ReplayCache(2);
  assertEquals(c.seen("a"), { replayed: false, evicted: 0 });
  assertEquals(c.seen("a"), { replayed: true, evicted: 0 });
  assertEquals(c.seen("b"), { replayed: false, evicted: 0 });
  assertEquals(c.seen("c"), { replayed: false, evicted: 1 });
  assertEquals(c.seen("b").replayed, true);
});

Deno.test("RateLimiter: new IP starts at max−cost, refills by time, GC after 1 s", () => {
  const rl = new RateLimiter(10, 3); // cost 100 ms, capacity 300 ms
  let t = 1000;
  // tokens: 200 → 100 → (100 > 100 false)
  assertEquals(rl.allow("a", t), true);
  assertEquals(rl.allow("a", t), true);
  assertEquals(rl.allow("a", t), false);
  t += 150; // +150ms of tokens: 250 > 100
  assertEquals(rl.allow("a", t), true);
  assertEquals(rl.allow("b", t), true);
  t += 2000;
  rl.allow("c", t);
  assertEquals(rl.size, 1);
});
