import { assert, assertEquals } from "../_util/assert.ts";
import { relay } from "../../src/common/relay.ts";

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn, () => void]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (l.addr as Deno.NetAddr).port }),
    l.accept(),
  ]);
  return [a, b as Deno.TcpConn, () => l.close()];
}

async function readAll(c: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await c.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function writeAll(c: Deno.Conn, d: Uint8Array): Promise<void> {
  let o = 0;
  while (o < d.length) o += await c.write(d.subarray(o));
}

Deno.test("relay() copies both ways, propagates half-close and counts bytes", async () => {
  const [client, proxyIn, close1] = await pair();
  const [proxyOut, server, close2] = await pair();
  const done = relay(proxyIn, proxyOut);
  const up = crypto.getRandomValues(new Uint8Array(65536)).map((b, i) => (b + i) & 0xff);
  const bigUp = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  // client sends, then half-closes; the server must see EOF and can still answer afterwards.
  await writeAll(client, up);
  await writeAll(client, bigUp);
  await client.closeWrite();
  const got = await readAll(server);
  assertEquals(got.length, up.length + bigUp.length);
  assertEquals(got.subarray(0, up.length), up);
  assertEquals(got.subarray(up.length), bigUp);
  const reply = new TextEncoder().encode("answer after half-close");
  await writeAll(server, reply);
  await server.closeWrite();
  assertEquals(new TextDecoder().decode(await readAll(client)), "answer after half-close");
  const r = await done;
  assertEquals([r.upload, r.download], [up.length + bigUp.length, reply.length]);
  assertEquals(r.error, undefined);
  client.close();
  server.close();
  close1();
  close2();
});

Deno.test("relay() closes both sides after the idle timeout", async () => {
  const [client, proxyIn, close1] = await pair();
  const [proxyOut, server, close2] = await pair();
  const t0 = performance.now();
  const r = await relay(proxyIn, proxyOut, { idleTimeoutMs: 200 });
  const elapsed = performance.now() - t0;
  assert(r.idleTimedOut);
  assert(elapsed >= 190 && elapsed < 2000, `idle close after ${elapsed} ms`);
  assertEquals(await client.read(new Uint8Array(1)), null);
  assertEquals(await server.read(new Uint8Array(1)), null);
  client.close();
  server.close();
  close1();
  close2();
});
