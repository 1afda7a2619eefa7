import { assert, assertEquals, assertRejects, assertThrows } from "../_util/assert.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ProtocolError } from "../../src/common/errors.ts";
import { HandshakeReader } from "../../src/common/handshake_reader.ts";
import { ConfigError } from "../../src/common/errors.ts";
import {
  encodeFrame,
  OP_BINARY,
  OP_PING,
  WsFrameDecoder,
  WsFrameEncoder,
} from "../../src/transport/ws/frame.ts";
import { acceptKey, b64url, unb64url, wsAccept, wsClient } from "../../src/transport/ws/handshake.ts";
import { httpUpgradeAccept, httpUpgradeConnect } from "../../src/transport/httpupgrade/httpupgrade.ts";
import { parsePluginOptions, pluginLayers } from "../../src/transport/sip003/sip003.ts";
import type { Stream } from "../../src/adapter/types.ts";

Deno.test("acceptKey() matches RFC 6455 §1.3", () => {
  assertEquals(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("decoder unmasks the RFC 6455 §5.7 masked 'Hello' frame", () => {
  const q = new ByteQueue();
  q.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
  assertEquals(new TextDecoder().decode(new WsFrameDecoder(true).decode(q)!), "Hello");
});

Deno.test("frames round-trip at 7-bit, 16-bit and 64-bit lengths, masked and unmasked", () => {
  for (const masked of [true, false]) {
    for (const n of [1, 125, 126, 65535, 65536, 200_001]) {
      const data = crypto.getRandomValues(new Uint8Array(Math.min(n, 65536)));
      const p = n > 65536 ? new Uint8Array(n).map((_, i) => i) : data;
      const q = new ByteQueue();
      const wire = new WsFrameEncoder(masked).encode(p).slice();
      q.push(wire.subarray(0, wire.length - 1));
      const d = new WsFrameDecoder(masked, !masked);
      assertEquals(d.decode(q), null);
      q.push(wire.subarray(wire.length - 1));
      assertEquals(d.decode(q)!.slice(), p);
    }
  }
});

Deno.test("ping is answered with a pong; close ends the stream; unmasked client frames are rejected", () => {
  const d = new WsFrameDecoder(true);
  const q = new ByteQueue();
  q.push(encodeFrame(OP_PING, new Uint8Array([7]), true));
  q.push(encodeFrame(OP_BINARY, new Uint8Array([1]), true));
  assertEquals(Array.from(d.decode(q)!), [1]);
  const pong = d.takeReply()!;
  assertEquals(pong[0], 0x8a);
  q.push(new WsFrameEncoder(true).finish());
  assertEquals(d.decode(q), null);
  assert(d.done);
  const strict = new WsFrameDecoder(true);
  q.push(encodeFrame(OP_BINARY, new Uint8Array([1]), false));
  assertThrows(() => strict.decode(q), ProtocolError);
});

Deno.test("base64url early data encoding round-trips", () => {
  const b = new Uint8Array([0xfb, 0xff, 0x00, 1]);
  assertEquals(b64url(b), "-_8AAQ");
  assertEquals(unb64url("-_8AAQ"), b);
  assertEquals(unb64url("%%%"), null);
});

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
    l.accept(),
  ]);
  l.close();
  return [a, b as Deno.TcpConn];
}

async function echoOnce(s: Stream, n: number): Promise<void> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await s.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  await s.write(buf.subarray(0, got));
}

async function readN(s: Stream, n: number): Promise<string> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await s.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return new TextDecoder().decode(buf.subarray(0, got));
}

for (
  const [label, opts] of [
    ["no early data", {}],
    ["early data in the path", { maxEarlyData: 2048 }],
    ["early data in a header", { maxEarlyData: 2048, earlyDataHeaderName: "Sec-WebSocket-Protocol" }],
  ] as const
) {
  Deno.test(`ws client and server exchange data (${label})`, async () => {
    const [c, s] = await pair();
    const server = (async () => {
      const ws = await wsAccept(s, new HandshakeReader(s), { path: "/ws", ...opts });
      await echoOnce(ws, 11);
      ws.close();
    })();
    const ws = await wsClient(c, { host: "localhost", path: "/ws", ...opts });
    await ws.write(new TextEncoder().encode("hello world"));
    assertEquals(await readN(ws, 11), "hello world");
    ws.close();
    await server;
  });
}

Deno.test("ws server answers 404 to a wrong path and throws", async () => {
  const [c, s] = await pair();
  const server = assertRejects(
    () => wsAccept(s, new HandshakeReader(s), { path: "/ws" }),
    ProtocolError,
    "bad path",
  );
  const client = assertRejects(
    async () => await wsClient(c, { host: "x", path: "/other" }),
    ProtocolError,
    "404",
  );
  await Promise.all([server, client]);
  c.close();
  s.close();
});

Deno.test("httpupgrade client and server exchange raw data", async () => {
  const [c, s] = await pair();
  const server = (async () => {
    const st = await httpUpgradeAccept(s, new HandshakeReader(s), { path: "/up" });
    await echoOnce(st, 5);
    st.close();
  })();
  const st = await httpUpgradeConnect(c, { host: "h", path: "/up" });
  await st.write(new TextEncoder().encode("abcde"));
  assertEquals(await readN(st, 5), "abcde");
  st.close();
  await server;
});

Deno.test("SIP003 plugin options parse with escapes and map v2ray-plugin to ws over TLS", () => {
  const o = parsePluginOptions("tls;host=a\\;b.com;path=/x");
  assertEquals([...o.entries()], [["tls", ""], ["host", "a;b.com"], ["path", "/x"]]);
  const layers = pluginLayers("v2ray-plugin", o);
  assertEquals(layers.transport, { type: "ws", path: "/x", headers: { Host: ["a;b.com"] } });
  assertEquals(layers.tls?.enabled, true);
  assertThrows(() => pluginLayers("v2ray-plugin", parsePluginOptions("mode=quic")), ConfigError);
});
