/**
 * Bench helper process: an HTTP origin on 127.0.0.1 that streams `/bytes?n=N` zero bytes from a
 * 1 MiB buffer (no disk), and a TCP sink that accepts and holds connections (for the idle test).
 * Prints `{"http":port,"sink":port}` on stdout once listening.
 */
const CHUNK = new Uint8Array(1024 * 1024);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const n = Number(new URL(req.url).searchParams.get("n") ?? "0");
  let left = n;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (left <= 0) return c.close();
      const k = Math.min(left, CHUNK.length);
      c.enqueue(k === CHUNK.length ? CHUNK : CHUNK.subarray(0, k));
      left -= k;
    },
  });
  return new Response(body, { headers: { "content-length": String(n) } });
});
const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held: Deno.Conn[] = [];
(async () => {
  for await (const c of sink) held.push(c);
})();
console.log(JSON.stringify({ http: server.addr.port, sink: (sink.addr as Deno.NetAddr).port }));
