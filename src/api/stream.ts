/**
 * Streaming responses of the Clash API (`/traffic`, `/memory`, `/logs`, `/connections` with a
 * WebSocket): one JSON value per message, either as newline-delimited JSON over a chunked HTTP
 * response or as WebSocket text frames when the request asks for an upgrade. Every stream ends
 * when the client goes away or the server closes.
 *
 * @module
 */

/** Starts producing values through `emit`; returns a function that stops it. */
export type Source = (emit: (value: unknown) => void) => () => void;

/** Queued chunks above which a slow HTTP client loses values instead of growing memory. */
const HIGH_WATER = 64;

/** True when `req` asks for a WebSocket upgrade. */
export function wantsWebSocket(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/**
 * Serves `source` as NDJSON or over a WebSocket.
 * @param shutdown aborted when the API closes; ends the stream
 */
export function jsonStream(req: Request, shutdown: AbortSignal, source: Source): Response {
  if (wantsWebSocket(req)) return webSocketStream(req, shutdown, source);
  const enc = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        shutdown.removeEventListener("abort", end);
        try {
          controller.close();
        } catch { /* cancelled */ }
      };
      const unsubscribe = source((value) => {
        if ((controller.desiredSize ?? 0) <= -HIGH_WATER) return;
        controller.enqueue(enc.encode(JSON.stringify(value) + "\n"));
      });
      stop = end;
      if (shutdown.aborted) end();
      else shutdown.addEventListener("abort", end, { once: true });
    },
    cancel() {
      stop();
    },
  }, { highWaterMark: 1 });
  return new Response(body, { headers: { "content-type": "application/json" } });
}

function webSocketStream(req: Request, shutdown: AbortSignal, source: Source): Response {
  const { socket, response } = Deno.upgradeWebSocket(req);
  let unsubscribe: (() => void) | undefined;
  const stop = () => {
    unsubscribe?.();
    unsubscribe = undefined;
    shutdown.removeEventListener("abort", close);
  };
  const close = () => {
    stop();
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close();
  };
  socket.onopen = () => {
    unsubscribe = source((value) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(value));
    });
  };
  socket.onclose = stop;
  socket.onerror = stop;
  if (shutdown.aborted) close();
  else shutdown.addEventListener("abort", close, { once: true });
  return response;
}

/**
 * A source that emits `sample()` every `intervalMs`; the first value comes after one interval
 * unless `immediate` is set.
 */
export function tickerSource(intervalMs: number, sample: () => unknown, immediate = false): Source {
  return (emit) => {
    if (immediate) emit(sample());
    const timer = setInterval(() => emit(sample()), intervalMs);
    return () => clearInterval(timer);
  };
}
