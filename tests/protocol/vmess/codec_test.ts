import fc from "fast-check";
import { assert, assertEquals, assertRejects, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import { HandshakeReader } from "../../../src/common/handshake_reader.ts";
import { ReplayFilter } from "../../../src/common/replay_filter.ts";
import { parseUuid } from "../../../src/common/uuid.ts";
import { VmessBodyDecoder, VmessBodyEncoder } from "../../../src/protocol/vmess/body.ts";
import {
  createAuthId,
  decodeRequestHeader,
  encodeRequestHeader,
  openAuthId,
  OPT_CHUNK_MASKING,
  OPT_CHUNK_STREAM,
  OPT_GLOBAL_PADDING,
  SECURITY,
  type VmessRequest,
  vmessUser,
} from "../../../src/protocol/vmess/header.ts";
import { cmdKey, crc32, fnv1a32, kdf } from "../../../src/protocol/vmess/kdf.ts";
import { vmessClientParts, vmessServerHandshake } from "../../../src/protocol/vmess/protocol.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const UUID = parseUuid("d73f92d8-aa98-1309-1335-bbbca4848995");
const enc = new TextEncoder();

Deno.test("kdf() matches an independent nested-HMAC implementation (Python hmac/hashlib)", () => {
  assertEquals(
    hex(kdf(enc.encode("key"))),
    "385e28ac08671660f62ac976f5e64a31827aea172eff77cb2b046c52de9c08b0",
  );
  const k = Uint8Array.from({ length: 16 }, (_, i) => i);
  assertEquals(
    hex(kdf(k, "AES Auth ID Encryption")),
    "9fa4289c41650861a45b34aeab3879fe4785dce57ab3f68cfb0cc60fca69460a",
  );
  assertEquals(
    hex(kdf(k, "VMess Header AEAD Key", new Uint8Array(16).fill(1), new Uint8Array(8).fill(2))),
    "a8e0e832ee2304dfe6c05960627c2db9b7ff2583f75da4ad7651ddcf4fccbeb9",
  );
});

Deno.test("cmdKey(), crc32() and fnv1a32() known answers", () => {
  assertEquals(hex(cmdKey(UUID)), "3bb3eea51caa0d3eab494050b670fa6a");
  assertEquals(crc32(enc.encode("hello")), 0x3610a686);
  assertEquals(fnv1a32(enc.encode("a")), 0xe40c292c);
});

Deno.test("auth IDs open with the right user only and carry the timestamp", () => {
  const u = vmessUser(UUID);
  const id = createAuthId(u, 1_700_000_000);
  assertEquals(openAuthId(u, id), 1_700_000_000);
  assertEquals(openAuthId(vmessUser(parseUuid("00000000-0000-0000-0000-000000000001")), id), -1);
});

Deno.test("request header encodes and decodes with checksum checked", () => {
  const req: VmessRequest = {
    bodyIV: new Uint8Array(16).fill(1),
    bodyKey: new Uint8Array(16).fill(2),
    responseV: 9,
    option: OPT_CHUNK_STREAM | OPT_CHUNK_MASKING,
    security: SECURITY["aes-128-gcm"],
    command: 1,
    destination: { host: "example.com", port: 443 },
  };
  const h = encodeRequestHeader(req, new Uint8Array([5, 5, 5]));
  assertEquals(decodeRequestHeader(h), req);
  h[h.length - 1] ^= 1;
  assertThrows(() => decodeRequestHeader(h), ProtocolError, "checksum");
});

Deno.test("request header with command 3 (mux) carries no address", () => {
  const req: VmessRequest = {
    bodyIV: new Uint8Array(16).fill(1),
    bodyKey: new Uint8Array(16).fill(2),
    responseV: 9,
    option: OPT_CHUNK_STREAM,
    security: SECURITY.none,
    command: 3,
    destination: { host: "v1.mux.cool", port: 0 },
  };
  const h = encodeRequestHeader(req, new Uint8Array(0));
  // version, IV, key, V, option, padding|security, reserved, command, FNV-1a: no address bytes.
  assertEquals(h.length, 1 + 16 + 16 + 1 + 1 + 1 + 1 + 1 + 4);
  assertEquals([h[35], h[37]], [SECURITY.none, 3]);
  assertEquals(decodeRequestHeader(h), req);
});

function roundTrip(security: number, option: number, writes: Uint8Array[]): string {
  const p = { security, option, key: new Uint8Array(16).fill(3), iv: new Uint8Array(16).fill(4) };
  const e = new VmessBodyEncoder(p), d = new VmessBodyDecoder(p);
  const q = new ByteQueue();
  let out = "";
  for (const w of writes) {
    q.push(e.encode(w));
    for (let c = d.decode(q); c; c = d.decode(q)) out += hex(c);
  }
  q.push(e.finish()!);
  assertEquals(d.decode(q)?.length ?? 0, 0);
  assert(d.done, "the empty chunk ends the stream");
  return out;
}

Deno.test("vmess body round-trips for every security with masking and global padding (property)", () => {
  const all = OPT_CHUNK_STREAM | OPT_CHUNK_MASKING | OPT_GLOBAL_PADDING;
  for (
    const [sec, opt] of [[3, all], [4, all], [5, OPT_CHUNK_STREAM | OPT_CHUNK_MASKING], [3, OPT_CHUNK_STREAM]]
  ) {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40000 }), { maxLength: 4 }), (writes) => {
        return roundTrip(sec, opt, writes) === writes.map(hex).join("");
      }),
      { numRuns: 15 },
    );
  }
});

async function serverAccepts(wire: Uint8Array, replay = new ReplayFilter(240_000, Date.now())) {
  const stream = {
    read: (() => {
      let sent = false;
      return (p: Uint8Array) => {
        if (sent) return Promise.resolve(null);
        sent = true;
        p.set(wire);
        return Promise.resolve(wire.length);
      };
    })(),
    write: (p: Uint8Array) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close: () => {},
  };
  return await vmessServerHandshake(new HandshakeReader(stream, 65536), [vmessUser(UUID)], replay);
}

Deno.test("vmess server handshake accepts a client request and decodes its first chunk", async () => {
  const { prefix, encoder } = vmessClientParts(vmessUser(UUID), { host: "1.2.3.4", port: 80 }, {
    security: "chacha20-poly1305",
  });
  const body = encoder.encode(enc.encode("hello")).slice();
  const wire = new Uint8Array(prefix.length + body.length);
  wire.set(prefix);
  wire.set(body, prefix.length);
  const a = await serverAccepts(wire);
  assertEquals(a.request.destination, { host: "1.2.3.4", port: 80 });
  assertEquals(new TextDecoder().decode(a.decoder.decode(a.queue)!), "hello");
});

Deno.test("vmess server rejects replayed, truncated, foreign and stale requests", async () => {
  const { prefix } = vmessClientParts(vmessUser(UUID), { host: "1.2.3.4", port: 80 });
  const replay = new ReplayFilter(240_000, Date.now());
  await serverAccepts(prefix, replay);
  await assertRejects(() => serverAccepts(prefix, replay), ProtocolError, "replayed");
  await assertRejects(() => serverAccepts(prefix.subarray(0, 30)), ProtocolError);
  const other = vmessClientParts(vmessUser(parseUuid("00000000-0000-0000-0000-000000000001")), {
    host: "a",
    port: 1,
  });
  await assertRejects(() => serverAccepts(other.prefix), ProtocolError, "no user");
  const flipped = prefix.slice();
  flipped[50] ^= 1;
  await assertRejects(() => serverAccepts(flipped), ProtocolError, "authentication");
});
