/** The router integration: a `paniq` inbound and a `paniq` outbound in one `switchyard run`. */
import { assertEquals } from "./_assert.ts";
import { EXAMPLE_PROFILE } from "./_helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test({
  name: "switchyard run: socks inbound → paniq outbound → paniq inbound → direct, curl gets the origin",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const body = "hello-through-paniq";
    const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(body));
    const u = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const udpPort = (u.addr as Deno.NetAddr).port;
    u.close();
    const t = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const socksPort = (t.addr as Deno.NetAddr).port;
    t.close();
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
    } finally {
      proc.kill("SIGTERM");
      await proc.status;
      await origin.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
