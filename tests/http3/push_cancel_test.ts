// CANCEL_PUSH from the client (RFC 9114 §7.2.3) end to end: Switchyard's client cancelling a
// promised push before its stream exists, and a raw peer cancelling a push whose stream is open.
import { assert, assertEquals } from "../_util/assert.ts";
import { testCerts } from "./_certs.ts";
import { connectRaw, request, requestHeaders, send, SETTINGS, uni } from "./_raw.ts";
import { H3Client } from "../../src/http3/client.ts";
import { H3_ERROR, H3Error } from "../../src/http3/errors.ts";
import { encodeVarintFrame, FRAME, FrameReader } from "../../src/http3/frames.ts";
import { serveH3 } from "../../src/http3/server.ts";
import type { ControlEvent } from "../../src/http3/connection_state.ts";
import { decodeVarint } from "../../src/http3/varint.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const certs = await testCerts();

/** Resolves with `p`, or rejects after `ms` naming `what`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<never>((_, rej) =>
    timer = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)
  );
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A body that produces 1000-byte chunks forever (slowly), and reports when it is cancelled. */
function endlessBody() {
  const cancelled = Promise.withResolvers<void>();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 2));
      c.enqueue(new Uint8Array(1000).fill(0x61));
      sent += 1000;
    },
    cancel() {
      cancelled.resolve();
    },
  });
  return { body, cancelled: cancelled.promise, sent: () => sent };
}

Deno.test({
  name: "H3Client cancels a promised push: the server never opens its stream and drops its body",
  ...opts,
  fn: async () => {
    const cancelEvents: ControlEvent[] = [];
    const cancelSeen = Promise.withResolvers<void>();
    const late = Promise.withResolvers<Response>();
    const accepted: boolean[] = [];
    const server = serveH3({
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.certPem,
      key: certs.keyPem,
      onControlEvent: (ev) => {
        if (ev.kind !== "cancel-push") return;
        cancelEvents.push(ev);
        cancelSeen.resolve();
      },
    }, async (req, info) => {
      const path = new URL(req.url).pathname;
      if (path === "/page") accepted.push(await info.push("/late.js", late.promise));
      if (path === "/page2") accepted.push(await info.push("/again.js", new Response("again()")));
      return new Response(`<html>${path}`);
    });
    const outcomes: Promise<unknown>[] = [];
    const client = new H3Client({
      caCerts: [certs.caPem],
      maxPushes: 1, // MAX_PUSH_ID 0: one push at a time
      onPush: (req, res, cancel) => {
        if (new URL(req.url).pathname === "/late.js") cancel();
        outcomes.push(res.then((r) => r.text(), (e) => e));
      },
    });
    try {
      const url = `https://localhost:${server.addr.port}`;
      assertEquals(await (await client.fetch(`${url}/page`)).text(), "<html>/page");
      await within(cancelSeen.promise, 3000, "the server receiving CANCEL_PUSH");
      assertEquals(cancelEvents, [{ kind: "cancel-push", id: 0, action: "drop" }]);
      // The response becomes ready only now: the server must not send it.
      const { body, cancelled } = endlessBody();
      late.resolve(new Response(body));
      await within(cancelled, 3000, "the dropped push's body being cancelled");
      // The cancelled push ID was replaced (MAX_PUSH_ID 1), so the next push goes through.
      assertEquals(await (await client.fetch(`${url}/page2`)).text(), "<html>/page2");
      for (let i = 0; i < 100 && outcomes.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      const [first, second] = await Promise.all(outcomes);
      assert(first instanceof H3Error && first.code === H3_ERROR.REQUEST_CANCELLED, String(first));
      assertEquals(second, "again()");
      assertEquals(accepted, [true, true]);
      // Exactly one push stream came: the second push's. None for the cancelled one.
      const [stats] = await client.stats();
      assertEquals(stats.pushStreams, 1);
    } finally {
      await client.close();
      await server.shutdown();
    }
  },
});

/** Reads a stream in the background, counting bytes; `first` resolves with the first chunk. */
function drain(readable: ReadableStream<Uint8Array>) {
  const first = Promise.withResolvers<Uint8Array>();
  let bytes = 0;
  const done = (async () => {
    for await (const chunk of readable) {
      if (bytes === 0) first.resolve(chunk);
      bytes += chunk.length;
    }
  })();
  return { first: first.promise, done, bytes: () => bytes };
}

Deno.test({
  name: "serveH3() abandons an open push stream when the client sends CANCEL_PUSH",
  ...opts,
  fn: async () => {
    const endless = endlessBody();
    const server = serveH3(
      { hostname: "127.0.0.1", port: 0, cert: certs.certPem, key: certs.keyPem, gracefulTimeout: 200 },
      async (req, info) => {
        if (new URL(req.url).pathname === "/page") await info.push("/live.bin", new Response(endless.body));
        return new Response("page");
      },
    );
    const conn = await connectRaw(server.addr.port);
    try {
      const control = await send(conn, uni(0x00, SETTINGS, encodeVarintFrame(FRAME.MAX_PUSH_ID, 0)));
      const pushStream = Promise.withResolvers<ReadableStream<Uint8Array>>();
      (async () => {
        for await (const rs of conn.incomingUnidirectionalStreams) {
          const reader = rs.getReader();
          const { value } = await reader.read();
          reader.releaseLock();
          if (value && value[0] === 0x01) {
            // Type 0x01 then push ID 0; put the first chunk back in front of the rest.
            const rest = rs;
            pushStream.resolve(
              new ReadableStream({
                start(c) {
                  c.enqueue(value);
                },
                async pull(c) {
                  const r = rest.getReader();
                  const { value: v, done } = await r.read();
                  r.releaseLock();
                  if (done) c.close();
                  else c.enqueue(v);
                },
              }),
            );
          } else {
            rs.cancel().catch(() => {});
          }
        }
      })().catch(() => {});
      const req = await request(conn, requestHeaders("/page"));
      // The request stream carries PUSH_PROMISE for push ID 0.
      const frames = new FrameReader();
      const promised = (async () => {
        for await (const chunk of req.readable) {
          frames.push(chunk);
          for (let ev = frames.next(); ev; ev = frames.next()) {
            if (ev.kind === "frame" && ev.type === FRAME.PUSH_PROMISE) {
              return decodeVarint(ev.payload, 0)?.value;
            }
          }
        }
      })();
      assertEquals(await within(promised, 3000, "PUSH_PROMISE"), 0);
      const push = drain(await within(pushStream.promise, 3000, "the push stream"));
      const first = await within(push.first, 3000, "push stream data");
      assertEquals(Array.from(first.subarray(0, 2)), [0x01, 0x00]);
      // The stream is open and flowing: cancel it.
      await control.write(encodeVarintFrame(FRAME.CANCEL_PUSH, 0));
      await within(endless.cancelled, 3000, "the push body being cancelled");
      // The server stops: the push stream ends long before an endless body would.
      await within(push.done.catch(() => {}), 3000, "the push stream ending");
      const sentAtEnd = endless.sent();
      await new Promise((r) => setTimeout(r, 100));
      assertEquals(endless.sent(), sentAtEnd);
      // The connection is still fine.
      const again = await request(conn, requestHeaders("/other"));
      const text = new TextDecoder().decode(
        new Uint8Array(await new Response(again.readable).arrayBuffer()),
      );
      assert(text.endsWith("page"), JSON.stringify(text));
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
      await server.shutdown();
    }
  },
});
