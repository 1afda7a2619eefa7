import { assertEquals, assertThrows } from "../../_util/assert.ts";
import { ProtocolError } from "../../../src/common/errors.ts";
import { parseUuid } from "../../../src/common/uuid.ts";
import { decodeVlessRequest, encodeVlessRequest } from "../../../src/protocol/vless/protocol.ts";

const UUID = parseUuid("d73f92d8-aa98-1309-1335-bbbca4848995");

Deno.test("VLESS request bytes: version 0, uuid, no addons, command, port-first address", () => {
  const b = encodeVlessRequest({ uuid: UUID, command: 1, destination: { host: "127.0.0.1", port: 8080 } });
  assertEquals(
    Array.from(b),
    [0, ...UUID, 0, 1, 0x1f, 0x90, 1, 127, 0, 0, 1],
  );
  const d = decodeVlessRequest(b)!;
  assertEquals(d.length, b.length);
  assertEquals(d.value.destination, { host: "127.0.0.1", port: 8080 });
});

Deno.test("VLESS decoder handles domains, IPv6, addons, short input and bad versions", () => {
  for (const host of ["example.com", "2001:db8::1"]) {
    const b = encodeVlessRequest({ uuid: UUID, command: 2, destination: { host, port: 53 } });
    assertEquals(decodeVlessRequest(b)!.value.destination.host, host);
    assertEquals(decodeVlessRequest(b.subarray(0, b.length - 1)), null);
  }
  const withAddons = new Uint8Array([0, ...UUID, 2, 0x12, 0x00, 1, 0, 80, 1, 10, 0, 0, 1]);
  assertEquals(decodeVlessRequest(withAddons)!.value.destination, { host: "10.0.0.1", port: 80 });
  assertThrows(() => decodeVlessRequest(new Uint8Array([1, ...UUID, 0, 1])), ProtocolError);
  assertThrows(
    () => decodeVlessRequest(new Uint8Array([0, ...UUID, 0, 9, 0, 80, 1, 1, 1, 1, 1])),
    ProtocolError,
  );
});

Deno.test("VLESS command 3 (mux, XUDP) has no address in either direction", () => {
  const b = encodeVlessRequest({ uuid: UUID, command: 3, destination: { host: "v1.mux.cool", port: 0 } });
  assertEquals(Array.from(b), [0, ...UUID, 0, 3]);
  assertEquals(decodeVlessRequest(b), {
    value: { uuid: UUID, command: 3, destination: { host: "v1.mux.cool", port: 0 } },
    length: 19,
  });
});
