/**
 * Shadowsocks option errors name the field: `managed` (no ssm-api in this build), relay
 * `destinations` with users or a non-AES method, missing passwords, bad `udp_over_tcp`.
 */
import { assert, assertThrows } from "../../_util/assert.ts";
import { ConfigError } from "../../../src/common/errors.ts";
import { parseConfig } from "../../../src/config/config.ts";
import { Box } from "../../../src/box.ts";
import { registries } from "../../../src/include/registry.ts";

const KEY = btoa("0123456789abcdef");

function errorOf(inbound: Record<string, unknown> | null, outbound?: Record<string, unknown>): string {
  const config = {
    inbounds: inbound ? [{ type: "shadowsocks", tag: "ss", listen_port: 0, ...inbound }] : [],
    outbounds: outbound
      ? [{ type: "shadowsocks", tag: "o", server: "127.0.0.1", server_port: 1, ...outbound }]
      : [],
  };
  return assertThrows(() => Box.create(parseConfig(config, registries()), registries()), ConfigError).message;
}

Deno.test("shadowsocks inbound: managed, relay and password errors name their field", () => {
  const m = "2022-blake3-aes-128-gcm";
  const dest = { server: "127.0.0.1", server_port: 1, password: KEY };
  let e = errorOf({ method: m, password: KEY, managed: true });
  assert(e.includes("managed") && e.includes("not supported"), e);
  e = errorOf({ method: m, password: KEY, users: [{ password: KEY }], destinations: [dest] });
  assert(e.includes("destinations") && e.includes("users"), e);
  e = errorOf({
    method: "2022-blake3-chacha20-poly1305",
    password: btoa("x".repeat(32)),
    destinations: [dest],
  });
  assert(e.includes("destinations") && e.includes("aes"), e);
  e = errorOf({ method: m, password: KEY, destinations: [{ ...dest, password: "short" }] });
  assert(e.includes("destinations[0].password"), e);
  e = errorOf({ method: "aes-128-gcm" });
  assert(e.includes("password"), e);
});

Deno.test("shadowsocks outbound: a missing password and a bad udp_over_tcp version are refused", () => {
  let e = errorOf(null, { method: "aes-128-gcm" });
  assert(e.includes("password"), e);
  e = errorOf(null, { method: "aes-128-gcm", password: "p", udp_over_tcp: { enabled: true, version: 7 } });
  assert(e.includes("udp_over_tcp") && e.includes("version"), e);
});
