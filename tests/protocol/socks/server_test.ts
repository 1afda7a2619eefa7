import { assert, assertEquals } from "../../_util/assert.ts";
import type { ConnectionRouter, Metadata, Stream } from "../../../src/adapter/types.ts";
import { HandshakeReader } from "../../../src/common/handshake_reader.ts";
import { serveHttp } from "../../../src/protocol/http/server.ts";
import { serveSocks } from "../../../src/protocol/socks/server.ts";

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** A router that records what it was asked and answers success without relaying. */
function recordingRouter(seen: Metadata[]): ConnectionRouter {
  return {
    async routeConnection(stream: Stream, metadata: Metadata, hooks) {
      seen.push(metadata);
      await hooks?.onSuccess?.();
      stream.close();
    },
    routePacketConnection: () => Promise.resolve(),
  };
}

async function serveOne(
  serve: (conn: Deno.Conn) => Promise<void>,
  client: (port: number) => Promise<void>,
): Promise<{ error?: unknown; elapsed: number }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const t0 = performance.now();
  const accepted = l.accept().then((c) => serve(c).then(() => ({})).catch((error) => ({ error })));
  await client((l.addr as Deno.NetAddr).port);
  const r = await accepted;
  l.close();
  return { ...r, elapsed: performance.now() - t0 };
}

async function readUntilClosed(c: Deno.Conn): Promise<number> {
  const b = new Uint8Array(64);
  let total = 0;
  try {
    for (;;) {
      const n = await c.read(b);
      if (n === null) break;
      total += n;
    }
  } catch { /* reset */ }
  return total;
}

const socksCtx = (router: ConnectionRouter) => ({
  tag: "t",
  type: "socks",
  router,
  logger: quiet,
  users: new Map<string, string>(),
  udpHostname: "127.0.0.1",
  handshakeTimeoutMs: 200,
});

Deno.test("serveSocks() closes a silent or slow client at the handshake deadline", async () => {
  for (const partial of [Uint8Array.of(5), Uint8Array.of(5, 1, 0, 5, 1, 0)]) {
    const r = await serveOne(
      (conn) => serveSocks(conn, new HandshakeReader(conn, 1024), socksCtx(recordingRouter([]))),
      async (port) => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(partial);
        await readUntilClosed(c);
        c.close();
      },
    );
    assert(r.elapsed >= 190 && r.elapsed < 3000, `closed after ${r.elapsed} ms`);
    assertEquals((r.error as Error | undefined)?.name, "HandshakeTimeoutError");
  }
});

Deno.test("serveSocks() answers BIND with 'command not supported' and an unknown version by closing", async () => {
  const seen: Metadata[] = [];
  let reply = new Uint8Array(0);
  await serveOne(
    (conn) => serveSocks(conn, new HandshakeReader(conn, 1024), socksCtx(recordingRouter(seen))),
    async (port) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(Uint8Array.of(5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80));
      const b = new Uint8Array(64);
      let got = 0;
      for (;;) {
        const n = await c.read(b.subarray(got));
        if (n === null) break;
        got += n;
      }
      reply = b.slice(0, got);
      c.close();
    },
  );
  assertEquals(Array.from(reply.subarray(0, 4)), [5, 0, 5, 7]);
  assertEquals(seen.length, 0);
  const r = await serveOne(
    (conn) => serveSocks(conn, new HandshakeReader(conn, 1024), socksCtx(recordingRouter(seen))),
    async (port) => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(Uint8Array.of(6, 1, 0));
      await readUntilClosed(c);
      c.close();
    },
  );
  assertEquals((r.error as Error).name, "ProtocolError");
});

Deno.test("serveHttp() answers 400 to a malformed request and closes a silent client at the deadline", async () => {
  const ctx = {
    tag: "t",
    type: "http",
    router: recordingRouter([]),
    logger: quiet,
    users: new Map(),
    handshakeTimeoutMs: 200,
  };
  let text = "";
  await serveOne((conn) => serveHttp(conn, new HandshakeReader(conn), ctx), async (port) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(new TextEncoder().encode("NOT HTTP AT ALL\r\n\r\n"));
    const b = new Uint8Array(512);
    const n = await c.read(b);
    text = new TextDecoder().decode(b.subarray(0, n ?? 0));
    c.close();
  });
  assert(text.startsWith("HTTP/1.1 400 Bad Request"), text);
  const r = await serveOne((conn) => serveHttp(conn, new HandshakeReader(conn), ctx), async (port) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(new TextEncoder().encode("GET http://x/ HTTP/1.1\r\n"));
    await readUntilClosed(c);
    c.close();
  });
  assert(r.elapsed >= 190 && r.elapsed < 3000);
});
