import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../_util/assert.ts";
import { ByteQueue } from "../../src/common/byte_queue.ts";
import { ConfigError, ProtocolError } from "../../src/common/errors.ts";
import {
  obfsClientHello,
  ObfsHttpDecoder,
  ObfsHttpEncoder,
  ObfsTlsDecoder,
  ObfsTlsEncoder,
} from "../../src/transport/sip003/obfs.ts";
import { parsePluginOptions, pluginLayers } from "../../src/transport/sip003/sip003.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const td = new TextDecoder(), te = new TextEncoder();

Deno.test("obfs-local plugin options: obfs mode (default http) and obfs-host", () => {
  assertEquals(pluginLayers("obfs-local", parsePluginOptions("obfs=tls;obfs-host=a.example")), {
    obfs: { mode: "tls", host: "a.example" },
  });
  assertEquals(pluginLayers("obfs-local", parsePluginOptions("")), { obfs: { mode: "http", host: "" } });
  assertThrows(() => pluginLayers("obfs-local", parsePluginOptions("obfs=quic")), ConfigError);
});

Deno.test("obfs http: first write is a GET with the payload as body; response head is dropped", () => {
  const enc = new ObfsHttpEncoder("www.example.com", 8388);
  const first = td.decode(enc.encode(te.encode("DATA")));
  const [head, body] = first.split("\r\n\r\n");
  assertEquals(body, "DATA");
  const lines = head.split("\r\n");
  assertEquals(lines[0], "GET / HTTP/1.1");
  assertEquals(lines[1], "Host: www.example.com:8388");
  assert(/^User-Agent: curl\/7\.\d+\.[01]$/.test(lines[2]), lines[2]);
  assertEquals(lines.slice(3, 5), ["Upgrade: websocket", "Connection: Upgrade"]);
  assert(/^Sec-WebSocket-Key: [A-Za-z0-9_-]{22}==$/.test(lines[5]), lines[5]);
  assertEquals(lines[6], "Content-Length: 4");
  assertEquals(td.decode(enc.encode(te.encode("more"))), "more");
  assertEquals(td.decode(new ObfsHttpEncoder("h", 80).encode(te.encode("x"))).split("\r\n")[1], "Host: h");
  const q = new ByteQueue();
  const d = new ObfsHttpDecoder();
  q.push(te.encode("HTTP/1.1 101 Switching Protocols\r\nServer: nginx\r\n"));
  assertEquals(d.decode(q), null);
  q.push(te.encode("\r\nabc"));
  assertEquals(td.decode(d.decode(q)!), "abc");
});

Deno.test("obfs tls: ClientHello layout (lengths 212/208/79 + data + SNI, ticket carries data, SNI)", () => {
  const data = new Uint8Array([1, 2, 3]);
  const h = obfsClientHello(data, "ab.c", 0x01020304, new Uint8Array(28).fill(7), new Uint8Array(32).fill(9));
  assertEquals(h.length, 5 + 212 + 3 + 4);
  assertEquals(hex(h.subarray(0, 11)), "160301" + "00db" + "01" + "0000d7" + "0303");
  assertEquals(hex(h.subarray(11, 15)), "01020304");
  assertEquals(h[43], 32); // session ID length after 28 random bytes
  const ext = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 56 + 2;
  assertEquals((h[ext] << 8) | h[ext + 1], 79 + 3 + 4); // extensions length
  assertEquals(hex(h.subarray(ext + 2, ext + 9)), "00230003010203");
  assertEquals(hex(h.subarray(ext + 9, ext + 18)), "0000" + "0009" + "0007" + "00" + "0004");
  assertEquals(td.decode(h.subarray(ext + 18, ext + 22)), "ab.c");
});

Deno.test("obfs tls: later writes are 17 03 03 records of at most 16 KiB; server records decode", () => {
  const enc = new ObfsTlsEncoder("s");
  const first = enc.encode(new Uint8Array(20000).fill(1));
  assertEquals(first[0], 0x16);
  const helloLen = 5 + ((first[3] << 8) | first[4]);
  assertEquals(
    hex(first.subarray(helloLen, helloLen + 5)),
    "170303" + (20000 - 16384).toString(16).padStart(4, "0"),
  );
  assertEquals(hex(enc.encode(new Uint8Array([5]))), "17030300010" + "5");
  // Server: ServerHello, CCS, then data in a handshake-typed record and an application record.
  const wire = new Uint8Array([
    0x16,
    3,
    3,
    0,
    2,
    0xaa,
    0xbb,
    0x14,
    3,
    3,
    0,
    1,
    1,
    0x16,
    3,
    3,
    0,
    3,
    0x61,
    0x62,
    0x63,
    0x17,
    3,
    3,
    0,
    2,
    0x64,
    0x65,
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const q = new ByteQueue(8);
    const d = new ObfsTlsDecoder();
    let out = "";
    q.push(wire.subarray(0, cut));
    for (let c = d.decode(q); c; c = d.decode(q)) out += td.decode(c);
    q.push(wire.subarray(cut));
    for (let c = d.decode(q); c; c = d.decode(q)) out += td.decode(c);
    assertEquals(out, "abcde");
  }
  const q = new ByteQueue();
  q.push(new Uint8Array([0x17, 3, 3, 0, 1, 0]));
  assertThrows(() => new ObfsTlsDecoder().decode(q), ProtocolError);
});

Deno.test("fuzz: obfs decoders never crash on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      for (const d of [new ObfsTlsDecoder(), new ObfsHttpDecoder()]) {
        const q = new ByteQueue();
        q.push(b);
        try {
          for (let i = 0; i < 50 && d.decode(q); i++);
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }
    }),
    { numRuns: 2000 },
  );
});
