/**
 * The built-in SIP003 `obfs-local` plugin (simple-obfs http and tls modes) of the shadowsocks
 * outbound against the real `obfs-server` (Debian `simple-obfs`) fronting `ss-server`.
 */
import {
  freePort,
  requireTool,
  spawnDaemon,
  startOrigin,
  startSwitchyard,
  waitForPort,
} from "../_util/mod.ts";
import { assertBulk, assertCurl } from "./_proxy_peers.ts";

Deno.test({
  name: "shadowsocks obfs-local (http, tls) interoperates with simple-obfs obfs-server in front of ss-server",
  ignore: !requireTool("obfs-server", "simple-obfs") || !requireTool("ss-server", "shadowsocks-libev"),
  fn: async (t) => {
    const origin = startOrigin();
    const ssPort = freePort();
    const ss = spawnDaemon("ss-server", [
      "-s",
      "127.0.0.1",
      "-p",
      String(ssPort),
      "-k",
      "sspass",
      "-m",
      "aes-128-gcm",
    ]);
    const modes = ["http", "tls"] as const;
    const obfsPorts = modes.map(() => freePort());
    const obfs = modes.map((m, i) =>
      spawnDaemon("obfs-server", [
        "-s",
        "127.0.0.1",
        "-p",
        String(obfsPorts[i]),
        "-r",
        `127.0.0.1:${ssPort}`,
        "--obfs",
        m,
      ])
    );
    const local = modes.map(() => freePort());
    let sy: Awaited<ReturnType<typeof startSwitchyard>> | undefined;
    try {
      await waitForPort(ssPort);
      for (const p of obfsPorts) await waitForPort(p);
      sy = await startSwitchyard({
        log: { level: "warn" },
        inbounds: modes.map((m, i) => ({
          type: "mixed",
          tag: `in-${m}`,
          listen: "127.0.0.1",
          listen_port: local[i],
        })),
        outbounds: modes.map((m, i) => ({
          type: "shadowsocks",
          tag: m,
          server: "127.0.0.1",
          server_port: obfsPorts[i],
          method: "aes-128-gcm",
          password: "sspass",
          plugin: "obfs-local",
          plugin_opts: `obfs=${m};obfs-host=www.example.com`,
        })),
        route: { rules: modes.map((m) => ({ inbound: [`in-${m}`], outbound: m })) },
      }, local);
      const logs = () => sy!.output() + "\n--- obfs-server ---\n" + obfs.map((d) => d.output()).join("\n");
      for (const [i, m] of modes.entries()) {
        await t.step(m, async () => {
          await assertCurl(local[i], origin.port, m, logs);
          await assertBulk(local[i], origin.port, 4 << 20, m);
          await Promise.all([0, 1, 2].map(() => assertCurl(local[i], origin.port, `${m} parallel`, logs)));
        });
      }
    } finally {
      await sy?.stop();
      for (const d of obfs) await d.stop();
      await ss.stop();
      await origin.close();
    }
  },
});
