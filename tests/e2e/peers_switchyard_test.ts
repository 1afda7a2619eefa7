/**
 * Switchyard client ↔ Switchyard server for the layer combinations no Debian peer speaks:
 * httpupgrade, ws with early data (path and header), VLESS over ws+TLS, Trojan over
 * httpupgrade, VMess over TLS; plus hostile input against the vmess, vless and trojan inbounds
 * (wrong users, garbage, truncated headers): no reply, no crash, the server keeps working.
 */
import { assertEquals } from "../_util/assert.ts";
import { freePort, startOrigin, startSwitchyard } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import {
  assertBulk,
  assertCurl,
  assertUdp,
  makeCert,
  type PairCase,
  startSwitchyardPair,
} from "./_proxy_peers.ts";
import { vmessClientParts } from "../../src/protocol/vmess/protocol.ts";
import { vmessUser } from "../../src/protocol/vmess/header.ts";
import { parseUuid } from "../../src/common/uuid.ts";
import { encodeVlessRequest } from "../../src/protocol/vless/protocol.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";
const OTHER = "11111111-2222-3333-4444-555555555555";

async function expectSilence(port: number, payload: Uint8Array, label: string): Promise<void> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await c.write(payload);
    const buf = new Uint8Array(64);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      c.read(buf).then((n) => String(n), () => "reset"),
      new Promise<string>((res) => timer = setTimeout(() => res("silent"), 400)),
    ]);
    clearTimeout(timer);
    assertEquals(r, "silent", `${label}: a bad handshake must get neither bytes nor an early close`);
  } finally {
    c.close();
  }
}

Deno.test("switchyard client and server pair over every implemented layer, and stay silent on hostile input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "sy-pair-" });
  const cert = await makeCert(dir);
  const origin = startOrigin();
  const echo = startUdpEcho();
  const tlsIn = { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath };
  const tlsOut = { enabled: true, server_name: "localhost", certificate_path: cert.certPath };
  const cases: PairCase[] = [
    ["vmess-httpupgrade", {
      type: "vmess",
      users: [{ uuid: UUID }],
      transport: { type: "httpupgrade", path: "/up" },
    }, {
      type: "vmess",
      uuid: UUID,
      transport: { type: "httpupgrade", path: "/up" },
    }],
    ["vless-ws-early-path", {
      type: "vless",
      users: [{ uuid: UUID }],
      transport: { type: "ws", path: "/ws", max_early_data: 2048 },
    }, {
      type: "vless",
      uuid: UUID,
      transport: { type: "ws", path: "/ws", max_early_data: 2048 },
    }],
    ["vmess-ws-early-header", {
      type: "vmess",
      users: [{ uuid: UUID }],
      transport: {
        type: "ws",
        path: "/e",
        max_early_data: 2048,
        early_data_header_name: "Sec-WebSocket-Protocol",
      },
    }, {
      type: "vmess",
      uuid: UUID,
      security: "chacha20-poly1305",
      transport: {
        type: "ws",
        path: "/e",
        max_early_data: 2048,
        early_data_header_name: "Sec-WebSocket-Protocol",
      },
    }],
    ["vless-ws-tls", {
      type: "vless",
      users: [{ uuid: UUID }],
      tls: tlsIn,
      transport: { type: "ws", path: "/t" },
    }, {
      type: "vless",
      uuid: UUID,
      tls: tlsOut,
      transport: { type: "ws", path: "/t" },
    }],
    ["trojan-httpupgrade-tls", {
      type: "trojan",
      users: [{ password: "p" }],
      tls: tlsIn,
      transport: { type: "httpupgrade" },
    }, {
      type: "trojan",
      password: "p",
      tls: tlsOut,
      transport: { type: "httpupgrade" },
    }],
    ["vmess-tls-insecure", { type: "vmess", users: [{ uuid: UUID }], tls: tlsIn }, {
      type: "vmess",
      uuid: UUID,
      tls: { enabled: true, server_name: "localhost", insecure: true },
    }],
  ];
  const k16 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const k32 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  const u16 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  for (
    const [m, k] of [["2022-blake3-aes-128-gcm", k16], ["2022-blake3-aes-256-gcm", k32], [
      "2022-blake3-chacha20-poly1305",
      k32,
    ]]
  ) {
    cases.push([`ss-${m}`, { type: "shadowsocks", method: m, password: k }, {
      type: "shadowsocks",
      method: m,
      password: k,
    }]);
  }
  cases.push([
    "ss-2022-multi-user",
    {
      type: "shadowsocks",
      method: "2022-blake3-aes-128-gcm",
      password: k16,
      users: [{ name: "u", password: u16 }],
    },
    { type: "shadowsocks", method: "2022-blake3-aes-128-gcm", password: `${k16}:${u16}` },
  ]);
  const pair = await startSwitchyardPair(cases);
  const { cp, logs } = pair;
  try {
    for (const [i, [name]] of cases.entries()) {
      await t.step(name, async () => {
        await assertCurl(cp[i], origin.port, name, logs);
        await assertBulk(cp[i], origin.port, 4 << 20, name);
        await assertUdp(cp[i], echo.port, name);
      });
    }
    await t.step("hostile input gets the silent treatment", async () => {
      const vmessPlainPort = freePort();
      const vlessPlainPort = freePort();
      const plain = await startSwitchyard({
        log: { level: "warn" },
        inbounds: [
          {
            type: "vmess",
            tag: "vm",
            listen: "127.0.0.1",
            listen_port: vmessPlainPort,
            users: [{ uuid: UUID }],
          },
          {
            type: "vless",
            tag: "vl",
            listen: "127.0.0.1",
            listen_port: vlessPlainPort,
            users: [{ uuid: UUID }],
          },
        ],
        outbounds: [{ type: "direct", tag: "direct" }],
      }, [vmessPlainPort, vlessPlainPort]);
      try {
        const dest = { host: "127.0.0.1", port: origin.port };
        const foreign = vmessClientParts(vmessUser(parseUuid(OTHER)), dest).prefix;
        await expectSilence(vmessPlainPort, foreign, "vmess unknown user");
        const good = vmessClientParts(vmessUser(parseUuid(UUID)), dest).prefix;
        await expectSilence(vmessPlainPort, good.subarray(0, 40), "vmess truncated");
        await expectSilence(vmessPlainPort, crypto.getRandomValues(new Uint8Array(300)), "vmess garbage");
        await expectSilence(
          vlessPlainPort,
          encodeVlessRequest({ uuid: parseUuid(OTHER), command: 1, destination: dest }),
          "vless unknown user",
        );
        await expectSilence(vlessPlainPort, new Uint8Array([0, 1, 2]), "vless truncated");
        // A replayed VMess request (same auth ID) is not served either.
        const replayed = vmessClientParts(vmessUser(parseUuid(UUID)), dest).prefix;
        const c = await Deno.connect({ hostname: "127.0.0.1", port: vmessPlainPort });
        await c.write(replayed);
        c.close();
        await new Promise((r) => setTimeout(r, 100));
        await expectSilence(vmessPlainPort, replayed, "vmess replay");
      } finally {
        await plain.stop();
      }
      await assertCurl(cp[0], origin.port, "after hostile input", logs);
    });
  } finally {
    await pair.stop();
    echo.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
