/**
 * The Clash API end to end with real curl: authentication, hello/version/UI, `/configs` mode
 * switching observed through `clash_mode` DNS rules, `/proxies` and `/group` shapes and errors,
 * `/rules`, CORS, `/metrics`, `/logs`, and mode plus fake-IP persistence across a restart.
 */
import { assert, assertEquals, assertStringIncludes } from "../_util/assert.ts";
import { api, startNamedOrigin, viaProxy } from "../_util/clash.ts";
import { curl, startSwitchyard } from "../_util/mod.ts";
import { apiSetup, SECRET } from "./_config.ts";

const secret = SECRET;

Deno.test("Clash API: auth, configs and modes, proxies, rules, CORS, metrics, logs; mode and fake IPs persist", async (t) => {
  const [originA, originB] = [startNamedOrigin("A"), startNamedOrigin("B")];
  const s = await apiSetup([originA.port, originB.port]);
  const port = s.apiPort;
  let sy = await startSwitchyard(s.config, [s.mixed, port]);
  const dnsA = async (name: string) =>
    (await api(port, `/dns/query?name=${name}`, { secret })).json?.Answer?.map((a: { data: string }) =>
      a.data
    );
  try {
    await t.step("a missing or wrong secret gets 401; a WebSocket may pass ?token=", async () => {
      assertEquals(await api(port, "/version"), {
        status: 401,
        body: '{"message":"Unauthorized"}',
        json: { message: "Unauthorized" },
      });
      assertEquals((await api(port, "/version", { secret: "wrong" })).status, 401);
      assertEquals(
        (await api(port, "/version?token=t0ken")).status,
        401,
        "token is only for WebSocket upgrades",
      );
      const ws = new WebSocket(`ws://127.0.0.1:${port}/memory?token=${secret}`);
      const first = await new Promise<string>((resolve, reject) => {
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onerror = () => reject(new Error("websocket failed"));
      });
      ws.close();
      await new Promise((r) => ws.onclose = r);
      assertEquals(JSON.parse(first), { inuse: 0, oslimit: 0 }, "the first memory sample is 0");
    });

    await t.step("hello, version and the external UI", async () => {
      const hello = await api(port, "/", { secret, headers: ["Content-Type: application/json"] });
      assertEquals(hello.json, { hello: "clash" });
      const redirect = await curl([
        "-i",
        "-H",
        `Authorization: Bearer ${secret}`,
        `http://127.0.0.1:${port}/`,
      ]);
      assertStringIncludes(redirect.stdout, "HTTP/1.1 307");
      assertStringIncludes(redirect.stdout.toLowerCase(), "location: /ui/");
      assertEquals((await curl([`http://127.0.0.1:${port}/ui/`])).stdout, "<title>dashboard</title>\n");
      const v = (await api(port, "/version", { secret })).json;
      assert(v.version.startsWith("sing-box "), v.version);
      assertEquals([v.premium, v.meta], [true, true]);
    });

    await t.step("PATCH /configs switches the mode that clash_mode DNS rules see", async () => {
      const c = (await api(port, "/configs", { secret })).json;
      assertEquals([c.mode, c["mode-list"], c["log-level"], c["mixed-port"]], [
        "Rule",
        ["Rule", "Global"],
        "debug",
        0,
      ]);
      assertEquals(await dnsA("mode.test"), ["10.0.0.1"]);
      assertEquals(
        (await api(port, "/configs", { method: "PATCH", body: { mode: "global" }, secret })).status,
        204,
      );
      assertEquals((await api(port, "/configs", { secret })).json.mode, "Global", "matched ignoring case");
      assertEquals(await dnsA("mode.test"), ["10.0.0.2"], "the DNS cache was cleared on the switch");
      assertEquals(
        (await api(port, "/configs", { method: "PATCH", body: { mode: "Nope" }, secret })).status,
        204,
      );
      assertEquals(
        (await api(port, "/configs", { secret })).json.mode,
        "Global",
        "an unknown mode is ignored",
      );
      const bad = await api(port, "/configs", { method: "PATCH", body: { mode: 5 }, secret });
      assertEquals([bad.status, bad.json], [400, { message: "Body invalid: mode: expected string" }]);
      const notJson = await api(port, "/configs", { method: "PATCH", body: "{mode", secret });
      assertEquals(notJson.status, 400);
      assertStringIncludes(notJson.json.message, "Body invalid");
    });

    await t.step("/proxies and /group shapes, selector switching and its errors", async () => {
      const p = (await api(port, "/proxies", { secret })).json.proxies;
      assertEquals(p.GLOBAL, {
        type: "Fallback",
        name: "GLOBAL",
        udp: true,
        history: [],
        all: ["sel"],
        now: "sel",
      });
      assertEquals(p.sel, {
        type: "Selector",
        name: "sel",
        udp: true,
        history: [],
        now: "a",
        all: ["a", "b"],
      });
      assertEquals(p.blk, { type: "Reject", name: "blk", udp: true, history: [] });
      assertEquals(p.a.type, "Direct");
      assertEquals(
        (await api(port, "/group", { secret })).json.proxies.map((g: { name: string }) => g.name),
        ["sel"],
      );
      assertEquals((await api(port, "/group/a", { secret })).status, 404, "a is not a group");
      const cases: [string, string, unknown, number, string][] = [
        ["unknown proxy", "/proxies/nope", { name: "a" }, 404, "Resource not found"],
        ["not a selector", "/proxies/a", { name: "b" }, 400, "Must be a Selector"],
        [
          "not a member",
          "/proxies/sel",
          { name: "blk" },
          400,
          'Selector update error: "blk" is not a member of "sel"',
        ],
        ["bad body", "/proxies/sel", { name: 1 }, 400, "Body invalid: name: expected string"],
      ];
      for (const [what, path, body, status, message] of cases) {
        const r = await api(port, path, { method: "PUT", body, secret });
        assertEquals([r.status, r.json], [status, { message }], what);
      }
      assertEquals(await viaProxy(s.mixed, "http://127.0.0.1:1/"), "origin-A\n");
      assertEquals(
        (await api(port, "/proxies/sel", { method: "PUT", body: { name: "b" }, secret })).status,
        204,
      );
      assertEquals(await viaProxy(s.mixed, "http://127.0.0.1:1/"), "origin-B\n");
    });

    await t.step("delay tests record history; bad parameters are 400 naming them", async () => {
      const d = await api(port, "/proxies/a/delay?timeout=3000&url=http://127.0.0.1:1/", { secret });
      assertEquals(d.status, 200, d.body);
      assert(d.json.delay >= 1);
      assertEquals((await api(port, "/proxies/a", { secret })).json.history[0].delay, d.json.delay);
      const g = (await api(port, "/group/sel/delay?timeout=3000&url=http://127.0.0.1:1/", { secret })).json;
      assertEquals(Object.keys(g).sort(), ["a", "b"]);
      const down = await api(port, "/proxies/blk/delay?timeout=1000&url=http://127.0.0.1:1/", { secret });
      assertEquals([down.status, down.json], [503, { message: "An error occurred in the delay test" }]);
      for (
        const [q, message] of [
          ["timeout=abc", "Invalid query parameter: timeout: expected integer 1..32767"],
          ["", "Invalid query parameter: timeout: expected integer 1..32767"],
          ["timeout=100&url=ftp://x/", "Invalid query parameter: url: expected an http or https URL"],
        ]
      ) {
        const r = await api(port, `/proxies/a/delay?${q}`, { secret });
        assertEquals([r.status, r.json], [400, { message }], q);
      }
      const badType = await api(port, "/dns/query?name=x.test&type=BOGUS", { secret });
      assertEquals([badType.status, badType.json.message], [
        400,
        'Invalid query parameter: type: unknown query type "BOGUS"',
      ]);
      assertEquals(
        (await api(port, "/dns/query", { secret })).json.message,
        "Invalid query parameter: name: expected a domain name",
      );
      assertEquals((await api(port, "/logs?level=loud", { secret })).status, 400);
      assertEquals((await api(port, "/connections/abc", { method: "DELETE", secret })).status, 400);
    });

    await t.step("/rules, CORS with private network access, /metrics", async () => {
      assertEquals((await api(port, "/rules", { secret })).json, {
        rules: [{ type: "default", payload: "domain=blocked.test", proxy: "route(blk)" }],
      });
      // sing-box has no providers: empty lists, and 404 for a named one.
      assertEquals((await api(port, "/providers/proxies", { secret })).json, { providers: {} });
      assertEquals((await api(port, "/providers/rules", { secret })).json, { providers: [] });
      assertEquals((await api(port, "/providers/proxies/x", { secret })).status, 404);
      const pre = await curl([
        "-i",
        "-X",
        "OPTIONS",
        "-H",
        "Origin: http://ui.test",
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Private-Network: true",
        `http://127.0.0.1:${port}/proxies/sel`,
      ]);
      const head = pre.stdout.toLowerCase();
      assertStringIncludes(head, "http/1.1 204");
      assertStringIncludes(head, "access-control-allow-origin: http://ui.test");
      assertStringIncludes(head, "access-control-allow-private-network: true");
      assertStringIncludes(head, "access-control-allow-headers: content-type,authorization");
      const other = await curl([
        "-i",
        "-H",
        "Origin: http://evil.test",
        "-H",
        `Authorization: Bearer ${secret}`,
        `http://127.0.0.1:${port}/version`,
      ]);
      assert(
        !other.stdout.toLowerCase().includes("access-control-allow-origin"),
        "other origins get no CORS header",
      );
      const m = (await api(port, "/metrics", { secret })).body;
      assertStringIncludes(m, "# TYPE switchyard_upload_bytes_total counter\n");
      const up = Number(/^switchyard_upload_bytes_total (\d+)$/m.exec(m)?.[1]);
      assert(up > 0, `upload total ${up} after the proxied requests`);
      assertStringIncludes(m, 'switchyard_connections{network="tcp"} 0\n');
    });

    await t.step("/logs streams log lines as JSON", async () => {
      const logs = curl([
        "-N",
        "--max-time",
        "2",
        "-H",
        `Authorization: Bearer ${secret}`,
        `http://127.0.0.1:${port}/logs?level=debug`,
      ]);
      await new Promise((r) => setTimeout(r, 500));
      await viaProxy(s.mixed, "http://127.0.0.1:1/");
      const lines = (await logs).stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert(
        lines.some((l) =>
          l.type === "info" && l.payload.includes("inbound/mixed[in]: inbound connection from")
        ),
        JSON.stringify(lines.slice(0, 5)),
      );
      assert(lines.some((l) => l.type === "debug"), "level=debug includes debug lines");
    });

    await t.step("fake IPs are allocated through /dns/query", async () => {
      assertEquals(await dnsA("a.fake.test"), ["198.18.0.2"]);
      assertEquals(await dnsA("b.fake.test"), ["198.18.0.3"]);
    });

    await sy.stop();
    sy = await startSwitchyard(s.config, [s.mixed, port]);

    await t.step(
      "after a restart the mode, the selection and the fake IPs come back from cache_file",
      async () => {
        assertEquals((await api(port, "/configs", { secret })).json.mode, "Global");
        assertEquals((await api(port, "/proxies/sel", { secret })).json.now, "b");
        assertEquals(
          await dnsA("c.fake.test"),
          ["198.18.0.4"],
          "allocation continues after the last address",
        );
        assertEquals(await dnsA("a.fake.test"), ["198.18.0.2"], "known domains keep their address");
      },
    );

    await t.step(
      "a selection made just before SIGHUP survives the reload (flushed, then re-read)",
      async () => {
        assertEquals(
          (await api(port, "/proxies/sel", { method: "PUT", body: { name: "a" }, secret })).status,
          204,
        );
        sy.child.kill("SIGHUP");
        for (let i = 0; i < 100 && !sy.output().includes("reload: configuration reloaded"); i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert(sy.output().includes("reload: configuration reloaded"), sy.output());
        assertEquals((await api(port, "/proxies/sel", { secret })).json.now, "a");
      },
    );
  } finally {
    await sy.stop();
    await originA.close();
    await originB.close();
    await Deno.remove(s.dir, { recursive: true });
  }
});
