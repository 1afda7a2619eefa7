/**
 * Switchyard client ↔ Switchyard server over the V2Ray `grpc` (gun over HTTP/2, TLS and h2c) and
 * `http` (HTTP/2 over TLS, plain HTTP/1.1) transports, plus the server's answers to requests
 * with the wrong path, method or host.
 */
import { assertEquals } from "../_util/assert.ts";
import { curl, startOrigin } from "../_util/mod.ts";
import { startUdpEcho } from "../_util/socks_udp.ts";
import {
  assertBulk,
  assertCurl,
  assertUdp,
  makeCert,
  type PairCase,
  startSwitchyardPair,
} from "./_proxy_peers.ts";

const UUID = "d73f92d8-aa98-1309-1335-bbbca4848995";

Deno.test("switchyard pair over grpc and http transports (h2 over TLS, h2c, HTTP/1.1)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "sy-h2-" });
  const cert = await makeCert(dir);
  const origin = startOrigin();
  const echo = startUdpEcho();
  const tlsIn = { enabled: true, certificate_path: cert.certPath, key_path: cert.keyPath };
  const tlsOut = { enabled: true, server_name: "localhost", certificate_path: cert.certPath };
  const cases: PairCase[] = [
    ["vmess-grpc-h2c", {
      type: "vmess",
      users: [{ uuid: UUID }],
      transport: { type: "grpc", service_name: "Gun" },
    }, {
      type: "vmess",
      uuid: UUID,
      transport: { type: "grpc", service_name: "Gun" },
    }],
    ["vless-grpc-tls", {
      type: "vless",
      users: [{ uuid: UUID }],
      tls: tlsIn,
      transport: { type: "grpc", service_name: "svc.Tunnel", idle_timeout: "30s" },
    }, {
      type: "vless",
      uuid: UUID,
      tls: tlsOut,
      // Keep-alive PINGs on; the exchange must work the same.
      transport: {
        type: "grpc",
        service_name: "svc.Tunnel",
        idle_timeout: "1s",
        ping_timeout: "5s",
        permit_without_stream: true,
      },
    }],
    ["trojan-http-h2-tls", {
      type: "trojan",
      users: [{ password: "p" }],
      tls: tlsIn,
      transport: { type: "http", host: ["a.example", "b.example"], path: "/h2", method: "POST" },
    }, {
      type: "trojan",
      password: "p",
      tls: tlsOut,
      transport: { type: "http", host: ["a.example", "b.example"], path: "/h2", method: "POST" },
    }],
    ["vmess-http1-plain", {
      type: "vmess",
      users: [{ uuid: UUID }],
      transport: { type: "http", path: "/plain" },
    }, {
      type: "vmess",
      uuid: UUID,
      transport: { type: "http", path: "/plain/x", headers: { "X-Test": "1" } },
    }],
  ];
  const pair = await startSwitchyardPair(cases);
  const { sp, cp, logs } = pair;
  try {
    for (const [i, [name]] of cases.entries()) {
      await t.step(name, async () => {
        await assertCurl(cp[i], origin.port, name, logs);
        await assertBulk(cp[i], origin.port, 4 << 20, name);
        await assertUdp(cp[i], echo.port, name);
        // Several connections at once share one HTTP/2 connection (or one TCP each for HTTP/1.1).
        await Promise.all([0, 1, 2, 3].map(() => assertCurl(cp[i], origin.port, `${name} parallel`, logs)));
      });
    }
    await t.step("bad requests are answered with HTTP errors", async () => {
      const h2c = (path: string, extra: string[] = []) =>
        curl([
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--http2-prior-knowledge",
          ...extra,
          `http://127.0.0.1:${sp[0]}${path}`,
        ]);
      assertEquals(
        (await h2c("/Other/Tun", ["-X", "POST", "-H", "content-type: application/grpc"])).stdout,
        "404",
      );
      assertEquals((await h2c("/Gun/Tun", ["-H", "content-type: application/grpc"])).stdout, "404");
      assertEquals((await h2c("/Gun/Tun", ["-X", "POST", "-H", "content-type: text/plain"])).stdout, "404");
      const h1 = (path: string, extra: string[] = []) =>
        curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", ...extra, `http://127.0.0.1:${sp[3]}${path}`]);
      assertEquals((await h1("/elsewhere", ["-X", "PUT"])).stdout, "404");
      const tls = (host: string, method: string) =>
        curl([
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "--http2",
          "--cacert",
          cert.certPath,
          "-X",
          method,
          "-H",
          `Host: ${host}`,
          "--max-time",
          "3",
          `https://localhost:${sp[2]}/h2`,
        ]);
      assertEquals((await tls("c.example", "POST")).stdout, "400");
      assertEquals((await tls("a.example", "GET")).stdout, "404");
      await assertCurl(cp[0], origin.port, "after bad requests", logs);
    });
  } finally {
    await pair.stop();
    echo.close();
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});
