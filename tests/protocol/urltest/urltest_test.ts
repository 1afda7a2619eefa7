/**
 * urltest: member selection with tolerance (pure vectors), the group's switching and
 * interrupts over recorded delays, option defaults and checks, and the URL probe against local
 * HTTP and HTTPS origins.
 */
import { assert, assertEquals, assertThrows } from "../../_util/assert.ts";
import type { Outbound } from "../../../src/adapter/types.ts";
import { SystemDialer } from "../../../src/common/dialer.ts";
import { ConfigError } from "../../../src/common/errors.ts";
import { parseConfig } from "../../../src/config/config.ts";
import { registries } from "../../../src/include/registry.ts";
import { MemoryUrlTestHistory } from "../../../src/protocol/urltest/history.ts";
import { UrltestOutbound, urltestOutboundSchema } from "../../../src/protocol/urltest/outbound.ts";
import { selectMember } from "../../../src/protocol/urltest/select.ts";
import { urlTest, UrlTestTimeoutError } from "../../../src/protocol/urltest/url_test.ts";
import { testCerts } from "../../http3/_certs.ts";
import { FakeOutbound, groupContext } from "../_group_fakes.ts";

Deno.test("selectMember() keeps the current member unless another is faster by more than the tolerance", () => {
  const [a, b, c] = [new FakeOutbound("a"), new FakeOutbound("b"), new FakeOutbound("c", ["tcp"])];
  const delays = new Map<string, number>();
  const pick = (current: Outbound | undefined, network: "tcp" | "udp" = "tcp") =>
    selectMember([a, b, c], current, network, 50, (o) => delays.get(o.tag));
  assertEquals(pick(undefined), { outbound: a, tested: false }, "nothing tested: the first member, untested");
  delays.set("b", 300);
  assertEquals(pick(undefined), { outbound: b, tested: true });
  delays.set("a", 260);
  assertEquals(pick(b).outbound, b, "a is faster by 40 ms, within the tolerance");
  delays.set("a", 240);
  assertEquals(pick(b).outbound, a, "a is faster by 60 ms");
  delays.set("c", 10);
  assertEquals(pick(a, "udp").outbound, a, "c carries no UDP");
  assertEquals(pick(a, "tcp").outbound, c);
  delays.clear();
  assertEquals(selectMember([c], undefined, "udp", 50, () => undefined), {
    outbound: undefined,
    tested: false,
  });
});

function group(options: Record<string, unknown> = {}) {
  const a = new FakeOutbound("a");
  const b = new FakeOutbound("b");
  const map = new Map<string, Outbound>([["a", a], ["b", b]]);
  const history = new MemoryUrlTestHistory();
  const parsed = urltestOutboundSchema.parse({ type: "urltest", outbounds: ["a", "b"], ...options });
  const g = new UrltestOutbound(groupContext("auto", map, { urlTestHistory: history }), parsed);
  return { a, b, g, history };
}

Deno.test("UrltestOutbound switches on recorded delays beyond the tolerance and interrupts internal connections", async () => {
  const { a, b, g, history } = group();
  assertEquals([g.intervalMs, g.idleTimeoutMs, g.toleranceMs], [180_000, 1_800_000, 50]);
  const fresh = (delay: number) => ({ time: Date.now(), delay });
  history.store("a", fresh(100));
  history.store("b", fresh(80));
  assertEquals(await g.urlTest(), {}, "fresh results are not tested again");
  assertEquals(g.now(), "a", "b is faster by only 20 ms");
  await g.dial({ host: "x", port: 1 });
  history.store("b", fresh(40));
  await g.urlTest();
  assertEquals(g.now(), "b");
  assertEquals(a.streams[0]!.closed, true, "the connection through a was interrupted");
  a.fail = true;
  b.fail = true;
  await g.dial({ host: "x", port: 1 }).then(() => assert(false), () => {});
  assertEquals(history.load("b"), undefined, "a failed dial forgets the member's delay");
  assertEquals(history.load("a")?.delay, 100);
});

Deno.test("urltest options: defaults, tolerance 0 means 50, interval must not exceed idle_timeout", () => {
  assertEquals(group({ tolerance: 0, interval: "10s", idle_timeout: "1m" }).g.toleranceMs, 50);
  const regs = registries();
  const build = (o: Record<string, unknown>) =>
    parseConfig({
      outbounds: [{ type: "urltest", tag: "u", outbounds: ["d"], ...o }, { type: "direct", tag: "d" }],
    }, regs);
  assertThrows(
    () => build({ interval: "1h" }),
    ConfigError,
    "outbounds[0].interval: interval must be less or equal than idle_timeout",
  );
  assertThrows(
    () => build({ url: "ftp://x/" }),
    ConfigError,
    "outbounds[0].url: expected an http or https URL",
  );
  assertThrows(() => build({ tolerance: 70000 }), ConfigError, "outbounds[0].tolerance");
});

Deno.test("urlTest() times a HEAD request through a dialer; fails on refusal and times out on silence", async () => {
  const methods: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    methods.push(`${req.method} ${new URL(req.url).pathname}`);
    await new Promise((r) => setTimeout(r, 120));
    return new Response(null, { status: 204 });
  });
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) held.push(c);
  })();
  const dialer = new SystemDialer();
  try {
    const delay = await urlTest(dialer, `http://127.0.0.1:${server.addr.port}/generate_204`);
    assert(delay >= 120 && delay < 5000, `delay ${delay} ms`);
    assertEquals(methods, ["HEAD /generate_204"]);
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = closed.addr.port;
    closed.close();
    const refused = await urlTest(dialer, `http://127.0.0.1:${closedPort}/`).then(() => null, (e) => e);
    assert(refused instanceof Error && !(refused instanceof UrlTestTimeoutError), `got ${refused}`);
    const slow = await urlTest(dialer, `http://127.0.0.1:${silent.addr.port}/`, { timeoutMs: 300 }).then(
      () => null,
      (e) => e,
    );
    assert(slow instanceof UrlTestTimeoutError, `got ${slow}`);
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const c of held) c.close();
    await server.shutdown();
  }
});

Deno.test("urlTest() speaks TLS for https URLs and verifies the certificate", async () => {
  const certs = await testCerts();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certs.certPem,
    key: certs.keyPem,
    onListen() {},
  }, () => new Response(null, { status: 204 }));
  try {
    const url = `https://localhost:${server.addr.port}/generate_204`;
    const delay = await urlTest(new SystemDialer(), url, { caCerts: [certs.caPem] });
    assert(delay >= 1, `delay ${delay}`);
    const untrusted = await urlTest(new SystemDialer(), url).then(() => null, (e) => e);
    assert(untrusted instanceof Error, "an unknown CA must fail the test");
  } finally {
    await server.shutdown();
  }
});
