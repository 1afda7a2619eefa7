import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { parseProfile, resolveClient, resolveServer } from "../../src/protocol/paniq/profile.ts";
import {
  decodeConnectionString,
  decodeProfileCbor,
  encodeConnectionString,
  encodeProfileCbor,
} from "../../src/protocol/paniq/profile_cbor.ts";
import { profileToCompactJson, profileToFullJson } from "../../src/protocol/paniq/profile_json.ts";
import { formatGoDuration, parseGoDuration } from "../../src/protocol/paniq/duration.ts";
import { resolvePadding } from "../../src/protocol/paniq/padding.ts";
import { createProfile } from "../../src/protocol/paniq/create_profile.ts";
import { EXAMPLE_PROFILE, exampleProfile } from "./_helpers.ts";
import { ConfigError } from "../../src/common/errors.ts";

Deno.test("parseGoDuration()/formatGoDuration() follow Go", () => {
  assertEquals(parseGoDuration("500ms"), 500);
  assertEquals(parseGoDuration("2m"), 120_000);
  assertEquals(parseGoDuration("1h30m"), 5_400_000);
  assertEquals(parseGoDuration("1.5s"), 1500);
  assertEquals(parseGoDuration("0"), 0);
  assertThrows(() => parseGoDuration("5"), /invalid duration/);
  assertThrows(() => parseGoDuration("5x"), /unknown unit/);
  assertEquals(formatGoDuration(120_000), "2m0s");
  assertEquals(formatGoDuration(5000), "5s");
  assertEquals(formatGoDuration(1500), "1.5s");
  assertEquals(formatGoDuration(3_600_000), "1h0m0s");
  assertEquals(formatGoDuration(0), "0s");
  assertEquals(formatGoDuration(1.234), "1.234ms");
  assertEquals(formatGoDuration(0.0005), "500ns");
});

Deno.test("resolveServer()/resolveClient() on the §4.7 example profile", () => {
  const p = parseProfile(EXAMPLE_PROFILE);
  const s = resolveServer(p);
  assertEquals(s.budget, 1350 - (37 + 4 + 2));
  assertEquals(s.quicPacketSize, 1200);
  assertEquals(s.headroom, 107);
  assert(s.mac1Key && s.privateKey);
  assertEquals(s.requireEncryptedTimestamp, true);
  const c = resolveClient(p);
  assertEquals(c.encryptedTimestamp, true);
  assertEquals(c.keepAliveMs, 20_000);
  assertEquals(c.idleTimeoutMs, 120_000);
  assertEquals(c.maxStreams, 256);
});

Deno.test("profile validation errors name the field", () => {
  const bad = (obf: Record<string, unknown>, top: Record<string, unknown> = {}) => () =>
    resolveServer(parseProfile(exampleProfile(obf, top)));
  assertThrows(bad({ h2: "2367138250" }), /obfuscation: .*overlap/);
  assertThrows(bad({ i1: "<zz>" }), /unknown tag/);
  assertThrows(bad({ s4: 200 }), /quic.max_packet_size/);
  assertThrows(bad({ i1: "", require_encrypted_timestamp: false }), /require_timestamp needs <t>/);
  assertThrows(bad({ server_private_key: "abc" }), /server_private_key/);
  assertThrows(
    bad({ legacy_mode_enabled: true, require_encrypted_timestamp: false }),
    /legacy mode requires sunset/,
  );
  assertThrows(bad({ legacy_mode_enabled: true, legacy_mode_sunset: "2001-01-01" }), /sunset reached/);
  assertThrows(bad({}, { quic: { max_payload: 1100 } }), /max_payload/);
  assertThrows(bad({}, { transport_padding: { pad_min: 200, pad_max: 300 } }), /pad_min/);
  assertThrows(() => parseProfile({ quic: { keepalive: 5 } }), /quic.keepalive: duration must be a string/);
  assertThrows(() => parseProfile({ obfuscation: { jc: "4" } }), /obfuscation.jc: expected integer/);
  assertThrows(() => resolveClient(parseProfile(exampleProfile({}, { proxy_addr: "" }))), /proxy_addr/);
  assertThrows(() => resolveServer(parseProfile({})), /obfuscation required/);
  try {
    resolveServer(parseProfile(exampleProfile({ s4: 500 })));
  } catch (e) {
    assert(e instanceof ConfigError);
  }
});

Deno.test("resolveServer() takes BF_SERVER_PRIVATE_KEY-style overrides only when the profile has no key", () => {
  const p = parseProfile(exampleProfile({ server_private_key: "" }));
  const key = EXAMPLE_PROFILE.obfuscation.server_private_key;
  assertThrows(() => resolveServer(p), /needs server private key/);
  assert(resolveServer(p, key).privateKey);
});

Deno.test("resolvePadding(): absent block → defaults; any field → others 0; constraints", () => {
  assertEquals(resolvePadding(undefined), { min: 0, max: 64, burstMin: 128, burstMax: 256, burstProb: 0.02 });
  assertEquals(resolvePadding({ pad_max: 10 }), { min: 0, max: 10, burstMin: 0, burstMax: 0, burstProb: 0 });
  assertThrows(() => resolvePadding({ pad_min: 5, pad_max: 4 }), /pad_max/);
  assertThrows(() => resolvePadding({ pad_burst_prob: 0.5 }), /pad_burst_max must be > 0/);
  assertThrows(() => resolvePadding({ pad_burst_prob: 2, pad_burst_max: 3 }), /between 0 and 1/);
});

Deno.test("CBOR round trip keeps fields; defaults are omitted; version must be 1", () => {
  const p = parseProfile(exampleProfile({ transport_replay: true, transport_replay_limit: 1000 }));
  const bytes = encodeProfileCbor(p);
  assertEquals(bytes[0], 0xa8); // version, name, proxy_addr, delay, jitter, quic, obfuscation, padding
  const back = decodeProfileCbor(bytes);
  assertEquals(back.proxy_addr, p.proxy_addr);
  assertEquals(back.obfuscation, p.obfuscation);
  assertEquals(back.quic.max_payload, 1200);
  assertEquals(back.quic.max_packet_size, 0); // 1350 is the default and omitted
  assertEquals(back.handshake_timeout, 0);
  assertEquals(encodeProfileCbor(back), bytes); // deterministic
  const s = encodeConnectionString(p);
  assertEquals(decodeConnectionString(s.replace(/(.{20})/g, "$1\n")).obfuscation, p.obfuscation);
  assertThrows(
    () => decodeProfileCbor(new Uint8Array([0xa1, 0x00, 0x02])),
    /unsupported cbor profile version 2/,
  );
  assertThrows(() => decodeProfileCbor(new Uint8Array([0xa1, 0x01, 0x60])), /missing version/);
  assertThrows(() => decodeProfileCbor(new Uint8Array([0xff])), /invalid CBOR/);
  assertThrows(() => encodeProfileCbor(parseProfile({ obfuscation: { jc: 1 } })), /proxy_addr required/);
});

Deno.test("CBOR keeps Go's pad_burst_prob quirk: 0.02 is dropped from a non-default block", () => {
  const p = parseProfile(EXAMPLE_PROFILE);
  const back = decodeProfileCbor(encodeProfileCbor(p));
  assertEquals(back.transport_padding, { pad_min: 16, pad_max: 96, pad_burst_min: 96, pad_burst_max: 104 });
  assertEquals(resolvePadding(back.transport_padding).burstProb, 0);
  const other = parseProfile(
    exampleProfile({}, {
      transport_padding: { pad_min: 16, pad_max: 96, pad_burst_prob: 0.05, pad_burst_max: 100 },
    }),
  );
  assertEquals(decodeProfileCbor(encodeProfileCbor(other)).transport_padding.pad_burst_prob, 0.05);
});

Deno.test("profileToCompactJson() prints the omitempty shape with Go HTML escaping and Go durations", () => {
  const p = decodeProfileCbor(
    encodeProfileCbor(parseProfile(exampleProfile({}, { handshake_timeout: "7s" }))),
  );
  const json = profileToCompactJson(p);
  assert(json.includes('"i1": "\\u003ct\\u003e"'));
  assert(json.includes('"handshake_timeout": "7s"'));
  assert(json.includes('"legacy_mode_enabled": false'));
  assert(!json.includes('"i2"'));
  assertEquals(parseProfile(JSON.parse(json)).obfuscation.i1, "<t>");
});

Deno.test("createProfile() follows bf create-profile's ranges and output shape", () => {
  for (let i = 0; i < 20; i++) {
    const p = createProfile({ mtu: 1420, name: "", proxyAddr: "1.2.3.4:9000", now: Date.UTC(2026, 0, 2) });
    const o = p.obfuscation;
    assertEquals(p.name, "bf-2026-01-02");
    assert(o.jc >= 3 && o.jc <= 5);
    assert(o.jmin >= 200 && o.jmin <= 600);
    assert(o.jmax >= 900 && o.jmax <= 1320 && o.jmax > o.jmin);
    assert(o.s1 >= 200 && o.s1 <= 520 && o.s4 >= 20 && o.s4 <= 80);
    const starts = [o.h1, o.h2, o.h3, o.h4].map((h) => Number(h.split("-")[0]));
    assertEquals([...starts].sort((a, b) => a - b), starts);
    assertEquals(new Set(starts.map((s) => s >>> 24)).size, 4);
    assertEquals(o.i1, "<t>");
    assertEquals(p.quic.max_payload, 1200);
    assertEquals(o.rate_limit_pps, 50);
    resolveServer(p);
    resolveClient(p);
    const text = profileToFullJson(p);
    assert(text.includes('"idle_timeout": "2m0s"'));
    assert(text.includes('"legacy_mode_enabled": null'));
  }
  assertThrows(() => createProfile({ mtu: 1279, name: "", proxyAddr: "" }), /mtu must be >= 1280/);
  const small = createProfile({ mtu: 1280, name: "x", proxyAddr: "a:1" });
  assert(small.obfuscation.s4 <= 74);
  resolveServer(small);
});
