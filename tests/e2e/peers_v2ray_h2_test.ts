/**
 * VMess over the V2Ray `http` transport (HTTP/2 over TLS) against v2ray 4.34 in both directions:
 * a Switchyard outbound to a v2ray `httpSettings` inbound, and a v2ray client to a Switchyard
 * inbound. v2ray requires TLS for this transport.
 */
import { freePort, requireTool, startOrigin, startSwitchyard } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import { assertBulk, assertCurl, assertUdp, makeCert, startPeer } from "./_proxy_peers.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";

Deno.test({
  name: "vmess over http (h2+TLS) interoperates with v2ray 4.34 both ways",
  ignore: !requireTool("v2ray", "v2ray"),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "sy-v2ray-h2-" });
    const cert = await makeCert(dir);
    const origin = startOrigin();
    const echo = startUdpEcho();
    const v2In = freePort(), v2Socks = freePort(), syIn = freePort(), syMixed = freePort();
    const tlsV2 = {
      security: "tls",
      tlsSettings: {
        serverName: "localhost",
        allowInsecure: true,
        certificates: [{ certificateFile: cert.certPath, keyFile: cert.keyPath }],
      },
    };
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: [
        {
          type: "vmess",
          tag: "vmess-h2",
          listen: "127.0.0.1",
          listen_port: syIn,
          users: [{ uuid: UUID }],
          tls: { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath },
          transport: { type: "http", host: ["h2.example"], path: "/v2" },
        },
        { type: "mixed", tag: "mixed", listen: "127.0.0.1", listen_port: syMixed },
      ],
      outbounds: [
        { type: "direct", tag: "direct" },
        {
          type: "vmess",
          tag: "to-v2ray",
          server: "127.0.0.1",
          server_port: v2In,
          uuid: UUID,
          tls: { enabled: true, server_name: "localhost", certificate_path: cert.certPath },
          transport: { type: "http", host: ["h2.example"], path: "/v2" },
        },
      ],
      route: { rules: [{ inbound: ["mixed"], outbound: "to-v2ray" }], final: "direct" },
    }, [syIn, syMixed]);
    const v2 = await startPeer(
      "v2ray",
      (p) => ["-config", p],
      {
        log: { loglevel: "warning" },
        inbounds: [
          {
            tag: "vmess-h2",
            listen: "127.0.0.1",
            port: v2In,
            protocol: "vmess",
            settings: { clients: [{ id: UUID, alterId: 0 }] },
            streamSettings: {
              network: "http",
              httpSettings: { host: ["h2.example"], path: "/v2" },
              ...tlsV2,
            },
          },
          { tag: "socks", listen: "127.0.0.1", port: v2Socks, protocol: "socks", settings: { udp: true } },
        ],
        outbounds: [
          { tag: "direct", protocol: "freedom" },
          {
            tag: "to-sy",
            protocol: "vmess",
            settings: { vnext: [{ address: "127.0.0.1", port: syIn, users: [{ id: UUID, alterId: 0 }] }] },
            streamSettings: {
              network: "http",
              httpSettings: { host: ["h2.example"], path: "/v2" },
              ...tlsV2,
            },
          },
        ],
        routing: { rules: [{ type: "field", inboundTag: ["socks"], outboundTag: "to-sy" }] },
      },
      dir,
      "v2ray.json",
      [v2In, v2Socks],
    );
    const logs = () => sy.output() + "\n--- v2ray ---\n" + v2.output();
    try {
      await t.step("switchyard client → v2ray server", async () => {
        await assertCurl(syMixed, origin.port, "sy→v2ray", logs);
        await assertBulk(syMixed, origin.port, 4 << 20, "sy→v2ray");
        await assertUdp(syMixed, echo.port, "sy→v2ray");
      });
      await t.step("v2ray client → switchyard server", async () => {
        await assertCurl(v2Socks, origin.port, "v2ray→sy", logs);
        await assertBulk(v2Socks, origin.port, 4 << 20, "v2ray→sy");
        await assertUdp(v2Socks, echo.port, "v2ray→sy");
      });
    } finally {
      await v2.stop();
      await sy.stop();
      echo.close();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
