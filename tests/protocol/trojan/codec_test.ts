import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ByteQueue } from "../../../src/common/byte_queue.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import {
  decodeTrojanPacket,
  decodeTrojanRequest,
  encodeTrojanPacket,
  encodeTrojanRequest,
  looksLikeTrojan,
  trojanKey,
} from "../../../src/protocol/trojan/protocol.ts";

Deno.test("trojanKey() is the hex SHA-224 of the password", () => {
  assertEquals(
    new TextDecoder().decode(trojanKey("tpass")),
    "995d3c63dec902eefc6015b29b55889eecddca985dfdc3d350bd182b",
  );
});

Deno.test("trojan request encodes key, CRLF, command, SOCKS address, CRLF and decodes back", () => {
  const b = encodeTrojanRequest(trojanKey("tpass"), 1, { host: "example.com", port: 443 });
  const text = new TextDecoder("latin1").decode(b);
  assertEquals(text.slice(56, 59), "\r\n\x01");
  assertEquals(text.slice(-2), "\r\n");
  const d = decodeTrojanRequest(b)!;
  assertEquals(d.length, b.length);
  assertEquals(d.value.destination, { host: "example.com", port: 443 });
  assertEquals(decodeTrojanRequest(b.subarray(0, b.length - 1)), null);
});

Deno.test("trojan detection separates requests from other protocols for the fallback", () => {
  assertEquals(looksLikeTrojan(new TextEncoder().encode("GET / HTTP/1.1\r\n")), false);
  assertEquals(looksLikeTrojan(trojanKey("x").subarray(0, 20)), null);
  assertThrows(
    () => decodeTrojanRequest(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n" + "x".repeat(40))),
    ProtocolError,
  );
});

Deno.test("trojan UDP packets round-trip through a queue, split anywhere", () => {
  const a = encodeTrojanPacket({ host: "1.1.1.1", port: 53 }, new Uint8Array([1, 2, 3]));
  const b = encodeTrojanPacket({ host: "::1", port: 9 }, new Uint8Array(0));
  const wire = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const q = new ByteQueue(16);
    q.push(wire.subarray(0, cut));
    const got = [];
    for (let p = decodeTrojanPacket(q); p; p = decodeTrojanPacket(q)) got.push(p);
    q.push(wire.subarray(cut));
    for (let p = decodeTrojanPacket(q); p; p = decodeTrojanPacket(q)) got.push(p);
    assertEquals(got.map((p) => [p.addr.host, p.data.length]), [["1.1.1.1", 3], ["::1", 0]]);
  }
});
