import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import { blake3KeyDerive, lookupMethod } from "../../../src/protocol/shadowsocks/method.ts";
import {
  Ss2022ClientDecoder,
  Ss2022ClientEncoder,
  Ss2022ServerDecoder,
  Ss2022ServerEncoder,
} from "../../../src/protocol/shadowsocks/ss2022.ts";
import {
  openSs2022Udp,
  PacketIdWindow,
  sealSs2022Udp,
} from "../../../src/protocol/shadowsocks/ss2022_udp.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const enc = new TextEncoder();
const NOW = 1_800_000_000;
const now = () => NOW;

Deno.test("BLAKE3 derive-key mode matches the official test vector (empty input)", () => {
  assertEquals(
    hex(blake3KeyDerive("BLAKE3 2019-12-27 16:29:52 test vectors context", new Uint8Array(0), 32)),
    "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d",
  );
});

function exchange(method: string, multi: boolean, payload: Uint8Array, serverNow = now) {
  const m = lookupMethod(method);
  const upsk = crypto.getRandomValues(new Uint8Array(m.keySize));
  const ipsk = crypto.getRandomValues(new Uint8Array(m.keySize));
  const other = { name: "other", psk: crypto.getRandomValues(new Uint8Array(m.keySize)) };
  const ce = new Ss2022ClientEncoder(m, upsk, multi ? [ipsk] : [], { host: "example.com", port: 443 }, {
    now,
  });
  const sd = new Ss2022ServerDecoder(
    m,
    multi ? [other, { name: "me", psk: upsk }] : [{ name: "", psk: upsk }],
    multi ? ipsk : null,
    serverNow,
  );
  const q = new ByteQueue();
  q.push(ce.encode(payload));
  const first = sd.decode(q);
  return { m, upsk, ce, sd, q, first };
}

for (
  const method of ["2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm", "2022-blake3-chacha20-poly1305"]
) {
  Deno.test(`${method}: request and response headers and chunks round-trip`, () => {
    const { m, upsk, ce, sd, q, first } = exchange(method, false, enc.encode("GET / HTTP/1.1\r\n\r\n"));
    assertEquals(sd.destination, { host: "example.com", port: 443 });
    assertEquals(new TextDecoder().decode(first!), "GET / HTTP/1.1\r\n\r\n");
    const big = new Uint8Array(70_000).map((_, i) => i * 7);
    q.push(ce.encode(big));
    const got: Uint8Array[] = [];
    for (let c = sd.decode(q); c; c = sd.decode(q)) got.push(c.slice());
    assertEquals(hex(new Uint8Array(got.flatMap((x) => [...x]))), hex(big));
    const se = new Ss2022ServerEncoder(m, upsk, ce.salt, now);
    const cd = new Ss2022ClientDecoder(m, upsk, ce.salt, now);
    const rq = new ByteQueue();
    rq.push(se.encode(enc.encode("HTTP/1.1 200 OK")));
    assertEquals(new TextDecoder().decode(cd.decode(rq)!), "HTTP/1.1 200 OK");
    rq.push(se.encode(enc.encode("more")));
    assertEquals(new TextDecoder().decode(cd.decode(rq)!), "more");
  });
}

Deno.test("2022 multi-user: the identity header selects the user", () => {
  const { sd } = exchange("2022-blake3-aes-128-gcm", true, new Uint8Array(0));
  assertEquals(sd.user?.name, "me");
  assertEquals(sd.destination?.host, "example.com");
});

Deno.test("2022 server rejects a stale timestamp, a wrong key and a response for another request", () => {
  assertThrows(
    () => exchange("2022-blake3-aes-128-gcm", false, new Uint8Array(1), () => NOW + 31),
    ProtocolError,
    "timestamp",
  );
  const m = lookupMethod("2022-blake3-aes-256-gcm");
  const ce = new Ss2022ClientEncoder(m, new Uint8Array(32).fill(1), [], { host: "a", port: 1 }, { now });
  const sd = new Ss2022ServerDecoder(m, [{ name: "", psk: new Uint8Array(32).fill(2) }], null, now);
  const q = new ByteQueue();
  q.push(ce.encode(new Uint8Array(3)));
  assertThrows(() => sd.decode(q), ProtocolError, "authentication");
  const se = new Ss2022ServerEncoder(m, new Uint8Array(32).fill(1), new Uint8Array(32), now);
  const cd = new Ss2022ClientDecoder(m, new Uint8Array(32).fill(1), ce.salt, now);
  const rq = new ByteQueue();
  rq.push(se.encode(new Uint8Array(3)));
  assertThrows(() => cd.decode(rq), ProtocolError, "another request");
});

Deno.test("2022 UDP packets round-trip both ways for every method, single and multi-user", () => {
  for (
    const method of ["2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm", "2022-blake3-chacha20-poly1305"]
  ) {
    const m = lookupMethod(method);
    for (const multi of method.includes("chacha") ? [false] : [false, true]) {
      const upsk = crypto.getRandomValues(new Uint8Array(m.keySize));
      const ipsk = multi ? crypto.getRandomValues(new Uint8Array(m.keySize)) : undefined;
      const session = new Uint8Array(8).fill(9);
      const up = sealSs2022Udp(m, upsk, {
        sessionId: session,
        packetId: 5n,
        addr: { host: "1.2.3.4", port: 53 },
        data: enc.encode("q"),
      }, {
        server: false,
        now: NOW,
        ipsk,
      });
      const users = [{ name: "x", psk: crypto.getRandomValues(new Uint8Array(m.keySize)) }, {
        name: "me",
        psk: upsk,
      }];
      const got = openSs2022Udp(m, multi ? users : [{ name: "me", psk: upsk }], up, {
        server: true,
        now: NOW,
        ipsk,
      });
      assertEquals([got.user?.name, got.packetId, got.addr.host, new TextDecoder().decode(got.data)], [
        "me",
        5n,
        "1.2.3.4",
        "q",
      ]);
      const down = sealSs2022Udp(m, upsk, {
        sessionId: new Uint8Array(8).fill(1),
        packetId: 0n,
        clientSessionId: session,
        addr: { host: "1.2.3.4", port: 53 },
        data: enc.encode("a"),
      }, { server: true, now: NOW });
      const back = openSs2022Udp(m, [{ name: "", psk: upsk }], down, { server: false, now: NOW });
      assertEquals(hex(back.clientSessionId!), hex(session));
      assertThrows(
        () => openSs2022Udp(m, [{ name: "", psk: upsk }], down, { server: true, now: NOW }),
        ProtocolError,
      );
      up[up.length - 1] ^= 1;
      assertThrows(() => openSs2022Udp(m, users, up, { server: true, now: NOW, ipsk }), ProtocolError);
    }
  }
});

Deno.test("PacketIdWindow rejects replays and packets older than the window", () => {
  const w = new PacketIdWindow();
  assertEquals([
    w.check(0n),
    w.check(2n),
    w.check(1n),
    w.check(2n),
    w.check(100n),
    w.check(30n),
    w.check(99n),
  ], [
    true,
    true,
    true,
    false,
    true,
    false,
    true,
  ]);
});
