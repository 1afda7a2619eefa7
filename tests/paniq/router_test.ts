/**
 * The router integration: a `paniq` inbound and a `paniq` outbound in one `switchyard run`, with
 * their paniq.md §9 counters read back from the Clash API's Prometheus `/metrics`.
 */
import { assert, assertEquals } from "./_assert.ts";
import { freePort } from "../_util/mod.ts";
import { EXAMPLE_PROFILE } from "./_helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test({
  name: "switchyard run: socks inbound → paniq outbound → paniq inbound → direct, curl gets the origin",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const body = "hello-through-paniq";
    const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(body));
    const udpPort = freePort();
    const socksPort = freePort();
    const apiPort = freePort();
    const profile = structuredClone(EXAMPLE_PROFILE) as Record<string, unknown>;
    const config = {
      log: { level: "warn" },
      inbounds: [
        { type: "socks", tag: "socks-in", listen: "127.0.0.1", listen_port: socksPort },
        { type: "paniq", tag: "paniq-in", listen: "127.0.0.1", listen_port: udpPort, profile },
      ],
      outbounds: [
        { type: "direct", tag: "direct" },
        { type: "paniq", tag: "tunnel", server: `127.0.0.1:${udpPort}`, profile },
      ],
      route: { rules: [{ inbound: ["socks-in"], outbound: "tunnel" }], final: "direct" },
      experimental: { clash_api: { external_controller: `127.0.0.1:${apiPort}` } },
    };
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--unstable-net",
        "--unsafely-ignore-certificate-errors=127.0.0.1",
        MAIN,
        "run",
        "-c",
        `${dir}/config.json`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let out = "";
      for (let i = 0; i < 40 && out !== body; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const r = await new Deno.Command("curl", {
          args: [
            "-s",
            "--max-time",
            "10",
            "--socks5-hostname",
            `127.0.0.1:${socksPort}`,
            `http://127.0.0.1:${origin.addr.port}/`,
          ],
          stdout: "piped",
          stderr: "null",
        }).output();
        out = new TextDecoder().decode(r.stdout);
      }
      assertEquals(out, body);
      const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
      const value = (name: string, kind: string, tag: string) => {
        const m = new RegExp(`^${name}\\{kind="${kind}",tag="${tag}"\\} (\\d+)$`, "m").exec(text);
        assert(m, `${name} for ${kind} ${tag} missing from /metrics:\n${text}`);
        return Number(m[1]);
      };
      // The server accepted at least one proxy stream and sent the origin's reply back into it.
      assert(value("paniq_hs_ok", "inbound", "paniq-in") >= 1, "inbound hs_ok");
      assert(value("paniq_bytes_out", "inbound", "paniq-in") >= body.length, "inbound bytes_out");
      assertEquals(value("paniq_hs_fail", "inbound", "paniq-in"), 0);
      assertEquals(value("paniq_mac1_invalid", "inbound", "paniq-in"), 0);
      // The client side counts its handshake and the envelope traffic it produced.
      assert(value("paniq_hs_ok", "outbound", "tunnel") >= 1, "outbound hs_ok");
      assert(value("paniq_bytes_out", "outbound", "tunnel") >= body.length, "outbound bytes_out");
      assert(value("paniq_bytes_in", "outbound", "tunnel") > 0, "outbound bytes_in (the request)");
    } finally {
      proc.kill("SIGTERM");
      await proc.status;
      await origin.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
