/**
 * Interop with v2ray 4.34 (Debian `v2ray`) in both directions: Switchyard outbounds against a
 * v2ray server (vmess with every security, vless, trojan over TLS, shadowsocks aes-128-gcm and
 * chacha20-poly1305, vmess over WebSocket; vless UDP goes as XUDP, the sing-box default), and a
 * v2ray client against Switchyard inbounds, also with v2ray's Mux.Cool (`mux.enabled`) over
 * vmess and vless, which the inbounds serve as command 3 sessions. Each path is checked with curl to a local origin, a 4 MiB download and a SOCKS5 UDP echo.
 */
import { freePort, requireTool, startOrigin, startSwitchyard } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import { assertBulk, assertCurl, assertUdp, makeCert, startPeer } from "./_proxy_peers.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";
const v2rayArgs = (p: string) => ["-config", p];

Deno.test({
  name: "switchyard outbounds interoperate with a v2ray 4.34 server",
  ignore: !requireTool("v2ray", "v2ray"),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "sy-v2ray-" });
    const cert = await makeCert(dir);
    const origin = startOrigin();
    const echo = startUdpEcho();
    const p = {
      vmess: freePort(),
      vless: freePort(),
      trojan: freePort(),
      ss: freePort(),
      ssc: freePort(),
      ws: freePort(),
      ssws: freePort(),
    };
    const v2 = await startPeer(
      "v2ray",
      v2rayArgs,
      {
        log: { loglevel: "warning" },
        inbounds: [
          {
            listen: "127.0.0.1",
            port: p.vmess,
            protocol: "vmess",
            settings: { clients: [{ id: UUID, alterId: 0 }] },
          },
          {
            listen: "127.0.0.1",
            port: p.vless,
            protocol: "vless",
            settings: { clients: [{ id: UUID }], decryption: "none" },
          },
          {
            listen: "127.0.0.1",
            port: p.trojan,
            protocol: "trojan",
            settings: { clients: [{ password: "tpass" }] },
            streamSettings: {
              security: "tls",
              tlsSettings: { certificates: [{ certificateFile: cert.certPath, keyFile: cert.keyPath }] },
            },
          },
          {
            listen: "127.0.0.1",
            port: p.ss,
            protocol: "shadowsocks",
            settings: { method: "aes-128-gcm", password: "sspass", network: "tcp,udp" },
          },
          {
            listen: "127.0.0.1",
            port: p.ssc,
            protocol: "shadowsocks",
            settings: { method: "chacha20-poly1305", password: "sspass", network: "tcp,udp" },
          },
          {
            listen: "127.0.0.1",
            port: p.ws,
            protocol: "vmess",
            settings: { clients: [{ id: UUID, alterId: 0 }] },
            streamSettings: { network: "ws", wsSettings: { path: "/ws" } },
          },
          {
            // What v2ray-plugin's server mode is: Shadowsocks inside a WebSocket.
            listen: "127.0.0.1",
            port: p.ssws,
            protocol: "shadowsocks",
            settings: { method: "aes-128-gcm", password: "sspass" },
            streamSettings: { network: "ws", wsSettings: { path: "/ssws" } },
          },
        ],
        outbounds: [{ protocol: "freedom" }],
      },
      dir,
      "v2ray_server.json",
      Object.values(p),
    );
    const cases: [string, Record<string, unknown>, boolean][] = [
      ["vmess-aes", {
        type: "vmess",
        server_port: p.vmess,
        uuid: UUID,
        security: "aes-128-gcm",
        global_padding: true,
      }, true],
      [
        "vmess-chacha",
        { type: "vmess", server_port: p.vmess, uuid: UUID, security: "chacha20-poly1305" },
        true,
      ],
      ["vmess-none", { type: "vmess", server_port: p.vmess, uuid: UUID, security: "none" }, false],
      ["vmess-zero", { type: "vmess", server_port: p.vmess, uuid: UUID, security: "zero" }, false],
      ["vless", { type: "vless", server_port: p.vless, uuid: UUID }, true],
      ["trojan", {
        type: "trojan",
        server_port: p.trojan,
        password: "tpass",
        tls: { enabled: true, server_name: "localhost", certificate_path: cert.certPath },
      }, true],
      ["ss-aes", { type: "shadowsocks", server_port: p.ss, method: "aes-128-gcm", password: "sspass" }, true],
      ["ss-chacha", {
        type: "shadowsocks",
        server_port: p.ssc,
        method: "chacha20-ietf-poly1305",
        password: "sspass",
      }, true],
      ["ss-v2ray-plugin", {
        type: "shadowsocks",
        server_port: p.ssws,
        method: "aes-128-gcm",
        password: "sspass",
        plugin: "v2ray-plugin",
        plugin_opts: "path=/ssws;host=localhost",
      }, false],
      [
        "vmess-ws",
        { type: "vmess", server_port: p.ws, uuid: UUID, transport: { type: "ws", path: "/ws" } },
        false,
      ],
    ];
    const ports = cases.map(() => freePort());
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: cases.map(([name], i) => ({
        type: "mixed",
        tag: `in-${name}`,
        listen: "127.0.0.1",
        listen_port: ports[i],
      })),
      outbounds: cases.map(([name, o]) => ({ tag: name, server: "127.0.0.1", ...o })),
      route: { rules: cases.map(([name]) => ({ inbound: [`in-${name}`], outbound: name })) },
    }, ports);
    const logs = () => sy.output() + "\n--- v2ray ---\n" + v2.output();
    try {
      for (const [i, [name, , udp]] of cases.entries()) {
        await t.step(name, async () => {
          await assertCurl(ports[i], origin.port, name, logs);
          await assertBulk(ports[i], origin.port, 4 << 20, name);
          if (udp) await assertUdp(ports[i], echo.port, name);
        });
      }
    } finally {
      await sy.stop();
      await v2.stop();
      echo.close();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a v2ray 4.34 client interoperates with switchyard inbounds",
  ignore: !requireTool("v2ray", "v2ray"),
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "sy-v2ray-in-" });
    const cert = await makeCert(dir);
    const origin = startOrigin();
    const echo = startUdpEcho();
    const names = [
      "vmess",
      "vless",
      "trojan",
      "ss-aes",
      "ss-chacha",
      "vmess-ws",
      "vmess-mux",
      "vless-mux",
    ] as const;
    const sp = Object.fromEntries(names.map((n) => [n, freePort()])) as Record<typeof names[number], number>;
    const sy = await startSwitchyard({
      log: { level: "warn" },
      inbounds: [
        {
          type: "vmess",
          tag: "vmess",
          listen: "127.0.0.1",
          listen_port: sp.vmess,
          users: [{ name: "a", uuid: UUID }],
        },
        {
          type: "vless",
          tag: "vless",
          listen: "127.0.0.1",
          listen_port: sp.vless,
          users: [{ name: "a", uuid: UUID }],
        },
        {
          type: "trojan",
          tag: "trojan",
          listen: "127.0.0.1",
          listen_port: sp.trojan,
          users: [{ password: "tpass" }],
          tls: { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath },
        },
        {
          type: "shadowsocks",
          tag: "ss-aes",
          listen: "127.0.0.1",
          listen_port: sp["ss-aes"],
          method: "aes-128-gcm",
          password: "sspass",
        },
        {
          type: "shadowsocks",
          tag: "ss-chacha",
          listen: "127.0.0.1",
          listen_port: sp["ss-chacha"],
          method: "chacha20-ietf-poly1305",
          password: "sspass",
        },
        {
          type: "vmess",
          tag: "vmess-ws",
          listen: "127.0.0.1",
          listen_port: sp["vmess-ws"],
          users: [{ uuid: UUID }],
          transport: { type: "ws", path: "/ws" },
        },
        // v2ray's Mux.Cool client (TCP and UDP sessions over VMess/VLESS command 3).
        ...(["vmess-mux", "vless-mux"] as const).map((n) => ({
          type: n.split("-")[0],
          tag: n,
          listen: "127.0.0.1",
          listen_port: sp[n],
          users: [{ uuid: UUID }],
        })),
      ],
      outbounds: [{ type: "direct", tag: "direct" }],
    }, Object.values(sp));
    const local = Object.fromEntries(names.map((n) => [n, freePort()])) as Record<
      typeof names[number],
      number
    >;
    const out: Record<string, unknown> = {
      "vmess": {
        protocol: "vmess",
        settings: { vnext: [{ address: "127.0.0.1", port: sp.vmess, users: [{ id: UUID, alterId: 0 }] }] },
      },
      "vless": {
        protocol: "vless",
        settings: {
          vnext: [{ address: "127.0.0.1", port: sp.vless, users: [{ id: UUID, encryption: "none" }] }],
        },
      },
      "trojan": {
        protocol: "trojan",
        settings: { servers: [{ address: "127.0.0.1", port: sp.trojan, password: "tpass" }] },
        streamSettings: { security: "tls", tlsSettings: { allowInsecure: true, serverName: "localhost" } },
      },
      "ss-aes": {
        protocol: "shadowsocks",
        settings: {
          servers: [{ address: "127.0.0.1", port: sp["ss-aes"], method: "aes-128-gcm", password: "sspass" }],
        },
      },
      "ss-chacha": {
        protocol: "shadowsocks",
        settings: {
          servers: [{
            address: "127.0.0.1",
            port: sp["ss-chacha"],
            method: "chacha20-poly1305",
            password: "sspass",
          }],
        },
      },
      "vmess-ws": {
        protocol: "vmess",
        settings: {
          vnext: [{ address: "127.0.0.1", port: sp["vmess-ws"], users: [{ id: UUID, alterId: 0 }] }],
        },
        streamSettings: { network: "ws", wsSettings: { path: "/ws" } },
      },
      "vmess-mux": {
        protocol: "vmess",
        settings: {
          vnext: [{ address: "127.0.0.1", port: sp["vmess-mux"], users: [{ id: UUID, alterId: 0 }] }],
        },
        mux: { enabled: true, concurrency: 8 },
      },
      "vless-mux": {
        protocol: "vless",
        settings: {
          vnext: [{ address: "127.0.0.1", port: sp["vless-mux"], users: [{ id: UUID, encryption: "none" }] }],
        },
        mux: { enabled: true, concurrency: 8 },
      },
    };
    const v2 = await startPeer(
      "v2ray",
      v2rayArgs,
      {
        log: { loglevel: "warning" },
        inbounds: names.map((n) => ({
          tag: `s-${n}`,
          listen: "127.0.0.1",
          port: local[n],
          protocol: "socks",
          settings: { udp: true },
        })),
        outbounds: names.map((n) => ({ tag: `o-${n}`, ...(out[n] as object) })),
        routing: {
          rules: names.map((n) => ({ type: "field", inboundTag: [`s-${n}`], outboundTag: `o-${n}` })),
        },
      },
      dir,
      "v2ray_client.json",
      Object.values(local),
    );
    const logs = () => sy.output() + "\n--- v2ray ---\n" + v2.output();
    try {
      for (const n of names) {
        await t.step(n, async () => {
          await assertCurl(local[n], origin.port, n, logs);
          await assertBulk(local[n], origin.port, 4 << 20, n);
          if (n !== "vmess-ws") await assertUdp(local[n], echo.port, n);
        });
      }
    } finally {
      await v2.stop();
      await sy.stop();
      echo.close();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
