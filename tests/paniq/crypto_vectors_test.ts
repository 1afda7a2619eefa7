import { assert, assertEquals, assertFalse } from "./_assert.ts";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { computeMac1, deriveMac1Key, sealMac1, verifyMac1 } from "../../src/protocol/paniq/mac1.ts";
import {
  buildEncryptedTimestamp,
  deriveTimestampKey,
  parseEncryptedTimestamp,
} from "../../src/protocol/paniq/encrypted_timestamp.ts";
import { tai64n, tai64nAfter } from "../../src/protocol/paniq/tai64n.ts";
import { Framer } from "../../src/protocol/paniq/framer.ts";
import { MessageType } from "../../src/protocol/paniq/constants.ts";
import { obfParams } from "./_helpers.ts";

const PUB_0_31 = new Uint8Array(32).map((_, i) => i);

Deno.test("deriveMac1Key() matches the value derived for pub = 00..1f", () => {
  assertEquals(
    bytesToHex(deriveMac1Key(PUB_0_31)),
    "4fb2527ac956001553dc1ad9b55171b7d9daa3de1cdbcd71451830170c7e6cac",
  );
});

Deno.test("computeMac1() reproduces the three Go TestMac1Vectors", () => {
  const key = deriveMac1Key(PUB_0_31);
  const vectors = [
    [
      "99bba5fc99aa83bd7b00c59a4cb9cf624023f38ed8d062645db28013dacec69161d630f132b3a2f47b43b5a7e2b1f56c746bb0cd1f94867bc8fb92ed549b44f5c87db78eff49c4e8397c19e0601951f8e48e02f17f1dcc8eb007fff8af7f668283cc7cfa80db8153adf7d80c10e020fde80b3f9015cd93ad0bd50ccc8856e43f",
      "fb280fafec8f8966531ad572c0e00812",
    ],
    [
      "33e72a849fff576c2dc32de1f55c9756b893c27dd441dd7a4a593b50dd7a7a8c9b96af553ceb6d0b130b9798b340c3ccb85733456e8b092b812ed2b9660b9305",
      "ae526b7fc431d1823dbcde7ce2a81622",
    ],
    ["9b96af553ceb6d0b130b9798b340c3ccb85733456e8b092b812ed2b9660b9305", "5ce00eb069f8bf1cb1ddf6e31a245f9f"],
  ];
  for (const [msg, mac] of vectors) assertEquals(bytesToHex(computeMac1(key, hexToBytes(msg))), mac);
});

Deno.test("verifyMac1() accepts a sealed frame and rejects a flipped last byte or a MAC inside the prefix", () => {
  const key = deriveMac1Key(PUB_0_31);
  const frame = new Uint8Array(40).fill(7);
  sealMac1(key, frame);
  assert(verifyMac1(key, frame, 4));
  assertFalse(verifyMac1(key, frame, 30));
  frame[39] ^= 1;
  assertFalse(verifyMac1(key, frame, 4));
});

// The independently computed initiation vector of paniq.md §3.3.
const EPH = new Uint8Array(32).fill(3);
const SERVER_PRIV = new Uint8Array(32).fill(4);
const NONCE = new Uint8Array(24).map((_, i) => 0x10 + i);

Deno.test("encrypted timestamp known-answer vector (paniq.md §3.3)", () => {
  const serverPub = x25519.getPublicKey(SERVER_PRIV);
  assertEquals(bytesToHex(serverPub), "ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b");
  assertEquals(
    bytesToHex(x25519.getPublicKey(EPH)),
    "5dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef22",
  );
  const shared = x25519.getSharedSecret(EPH, serverPub);
  assertEquals(bytesToHex(shared), "40e47a3f525bdcac491d418978d7db5af623ac7afe7623c6d78a5d4fce9d0f63");
  assertEquals(
    bytesToHex(deriveTimestampKey(shared)),
    "a1d40dc04715812e97fa316ca64a875b1c8ff46fb1dd08223a1aa9cc303c8605",
  );
  const stamp = tai64n(1700000000, 123456789);
  assertEquals(bytesToHex(stamp), "400000006553f10a07000000");
  const block = buildEncryptedTimestamp(serverPub, stamp, { ephemeralPrivateKey: EPH, nonce: NONCE });
  assertEquals(block.length, 85);
  assertEquals(block[0], 1);
  assertEquals(bytesToHex(block.subarray(57)), "d108f607a9887a3c8dac44ac599938b6c9f826c89f75a4e07344647d");
  assertEquals(
    bytesToHex(deriveMac1Key(serverPub)),
    "f45b43da747e40496639272c58f82d7f251c83131f3b52d5f0390ec992437e6e",
  );
  // S1=0, H1=100: 64000000 ‖ enc-ts ‖ MAC1.
  const framer = new Framer(obfParams({ h1: "100", h2: "200", h3: "300", h4: "400" }));
  const payload = new Uint8Array(85 + 16);
  payload.set(block);
  const frame = framer.encodeFrame(MessageType.Initiation, payload);
  sealMac1(deriveMac1Key(serverPub), frame);
  assertEquals(frame.length, 105);
  assertEquals(bytesToHex(frame.subarray(0, 4)), "64000000");
  assertEquals(bytesToHex(frame.subarray(89)), "b8a13f0607f06d028a35bc0ffe433bd2");
  const parsed = parseEncryptedTimestamp(block, SERVER_PRIV);
  assertEquals(parsed.kind, "valid");
  if (parsed.kind === "valid") assertEquals(bytesToHex(parsed.stamp), "400000006553f10a07000000");
});

Deno.test("parseEncryptedTimestamp() treats short or unversioned payloads as absent and bad tags as invalid", () => {
  const serverPub = x25519.getPublicKey(SERVER_PRIV);
  assertEquals(parseEncryptedTimestamp(new Uint8Array(84), SERVER_PRIV).kind, "absent");
  const block = buildEncryptedTimestamp(serverPub, tai64n(1, 0));
  const wrongVersion = block.slice();
  wrongVersion[0] = 2;
  assertEquals(parseEncryptedTimestamp(wrongVersion, SERVER_PRIV).kind, "absent");
  const tampered = block.slice();
  tampered[84] ^= 0x80;
  assertEquals(parseEncryptedTimestamp(tampered, SERVER_PRIV).kind, "invalid");
  assertEquals(parseEncryptedTimestamp(block, new Uint8Array(32).fill(9)).kind, "invalid");
});

Deno.test("tai64n whitening: +10 ns/10 µs/1 ms/10 ms are not later, +20 ms is (Go TestMonotonic)", () => {
  const base = tai64n(1700000000, 123456789);
  for (const addNs of [10, 10_000, 1_000_000, 10_000_000]) {
    assertFalse(tai64nAfter(tai64n(1700000000, 123456789 + addNs), base), `+${addNs} ns`);
  }
  assert(tai64nAfter(tai64n(1700000000, 123456789 + 20_000_000), base));
  assert(tai64nAfter(tai64n(1700000001, 0), base));
});
