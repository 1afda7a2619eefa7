import { assert, assertEquals, assertRejects } from "../_util/assert.ts";
import { race, RaceError, type ResolvedAddress, sortAddresses } from "../../src/common/happy_eyeballs.ts";

const A = (address: string): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("sortAddresses() interleaves families, IPv6 first unless prefer_ipv4 (RFC 8305 §4)", () => {
  const addrs = [A("1.1.1.1"), A("2.2.2.2"), A("::1"), A("::2")];
  assertEquals(sortAddresses(addrs).map((a) => a.address), ["::1", "1.1.1.1", "::2", "2.2.2.2"]);
  assertEquals(sortAddresses(addrs, "prefer_ipv4").map((a) => a.address), [
    "1.1.1.1",
    "::1",
    "2.2.2.2",
    "::2",
  ]);
  assertEquals(sortAddresses(addrs, "ipv4_only").map((a) => a.address), ["1.1.1.1", "2.2.2.2"]);
  assertEquals(sortAddresses(addrs, "ipv6_only").map((a) => a.address), ["::1", "::2"]);
});

Deno.test("race() starts the next address after the attempt delay and takes the first success", async () => {
  const started: [string, number][] = [];
  const t0 = performance.now();
  const disposed: string[] = [];
  const conn = await race([A("::1"), A("1.1.1.1")], async (a) => {
    started.push([a.address, performance.now() - t0]);
    if (a.address === "::1") {
      await sleep(300); // slow first family
      return "v6";
    }
    await sleep(10);
    return "v4";
  }, { delayMs: 50, timeoutMs: 2000, dispose: (c) => disposed.push(c) });
  assertEquals(conn, "v4");
  assert(started[1]![1] >= 45 && started[1]![1] < 250, `second attempt started at ${started[1]![1]} ms`);
  await sleep(350);
  assertEquals(disposed, ["v6"], "the late winner is closed");
});

Deno.test("race() moves on at once when an attempt fails, before the delay", async () => {
  const t0 = performance.now();
  const conn = await race([A("::1"), A("1.1.1.1")], (a) => {
    if (a.address === "::1") return Promise.reject(new Error("refused"));
    return Promise.resolve(a.address);
  }, { delayMs: 1000, timeoutMs: 2000, dispose() {} });
  assertEquals(conn, "1.1.1.1");
  assert(performance.now() - t0 < 500);
});

Deno.test("race() reports the first error when all fail, and times out", async () => {
  const e = await assertRejects(
    () =>
      race([A("1.1.1.1"), A("2.2.2.2")], (a) => Promise.reject(new Error(`no ${a.address}`)), {
        delayMs: 10,
        dispose() {},
      }),
    RaceError,
  );
  assertEquals(e.message, "no 1.1.1.1");
  assertEquals(e.errors.length, 2);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = (_: ResolvedAddress) => new Promise<string>((r) => timer = setTimeout(() => r("late"), 300));
  await assertRejects(
    () => race([A("1.1.1.1")], slow, { timeoutMs: 50, dispose() {} }),
    DOMException,
    "timed out",
  );
  clearTimeout(timer);
});
