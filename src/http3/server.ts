/**
 * HTTP/3 server over Deno QUIC with a web-standard handler `(Request) => Response`, so any
 * fetch-style app (a hono app's `fetch`, for one) can be served over HTTP/3. Supports trailers,
 * server push, graceful GOAWAY shutdown and extended CONNECT (RFC 9220) through a separate hook.
 *
 * @example Usage
 * ```ts ignore
 * import { serveH3 } from "./server.ts";
 * const server = serveH3({
 *   port: 4433,
 *   cert: await Deno.readTextFile("cert.pem"),
 *   key: await Deno.readTextFile("key.pem"),
 * }, (req) => new Response(`hello ${new URL(req.url).pathname}`));
 * await server.finished;
 * ```
 * @module
 */
import { getLogger } from "../common/log.ts";
import { connectionError, H3_ERROR, H3Error, streamError } from "./errors.ts";
import { FRAME } from "./frames.ts";
import { parseRequestFields, type RequestHead, responseFields } from "./message.ts";
import { incomingBody, writeData, writeResponse } from "./message_io.ts";
import { push, ServerConnection } from "./server_connection.ts";
import { H3Session, type H3SessionOptions } from "./session.ts";
import { StreamSource } from "./stream_source.ts";

const log = getLogger("http3", "server");

/** Per-request details a handler may use besides the `Request`. */
export interface H3RequestInfo {
  /** The client's address. */
  remoteAddr: Deno.NetAddr;
  /** QUIC stream ID of the request. */
  streamId: number;
  /**
   * Pushes a response for `path` (same origin) to the client (RFC 9114 §4.6): the PUSH_PROMISE
   * goes out at once, the push stream once `response` resolves. Resolves to `false` when the
   * client has not allowed another push (no MAX_PUSH_ID, or all IDs used). If the client cancels
   * the push (CANCEL_PUSH), its stream is never opened, or abandoned if open, and the response
   * body is cancelled.
   */
  push(
    path: string,
    response: Response | Promise<Response>,
    init?: { headers?: HeadersInit },
  ): Promise<boolean>;
  /** QPACK counters of this connection, for diagnostics and tests. */
  qpackStats(): { encoderInserts: number; encoderAcknowledged: number; decoderInserts: number };
}

/** A request handler: web `Request` in, `Response` out. */
export type H3Handler = (request: Request, info: H3RequestInfo) => Response | Promise<Response>;

/** An extended CONNECT (RFC 9220) or plain CONNECT request, with its tunnel. */
export interface H3ConnectRequest {
  head: RequestHead;
  remoteAddr: Deno.NetAddr;
  /** Sends the response HEADERS; 2xx opens the tunnel. */
  respond(status: number, headers?: HeadersInit): Promise<void>;
  /** Tunnel bytes from the client (DATA payloads). */
  readable: ReadableStream<Uint8Array>;
  /** Tunnel bytes to the client (sent as DATA frames); close it to end the stream. */
  writable: WritableStream<Uint8Array>;
}

/** Server options. */
export interface ServeH3Options extends Omit<H3SessionOptions, "onGoaway" | "onPushStream" | "maxPushId"> {
  /** Address to bind. @default "0.0.0.0" */
  hostname?: string;
  /** UDP port; 0 picks one. @default 443 */
  port?: number;
  /** Certificate chain (PEM). */
  cert: string;
  /** Private key (PEM). */
  key: string;
  /** ALPN protocols offered. @default ["h3"] */
  alpnProtocols?: string[];
  /** QUIC transport options for accepted connections. */
  quic?: Deno.QuicTransportOptions;
  /** Aborting starts a graceful shutdown. */
  signal?: AbortSignal;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Makes the response for a handler error. @default 500 with no body */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Handles CONNECT requests; without it they get 501. */
  onConnect?: (request: H3ConnectRequest) => void | Promise<void>;
  /** How long a graceful shutdown waits for in-flight requests (ms). @default 5000 */
  gracefulTimeout?: number;
}

export { withTrailers } from "./message_io.ts";

/** A running HTTP/3 server. */
export interface H3Server {
  /** The bound UDP address. */
  readonly addr: Deno.NetAddr;
  /** Resolves when the server has shut down. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, sends GOAWAY on every connection, waits for in-flight requests
   * (up to `gracefulTimeout`) and closes with H3_NO_ERROR.
   */
  shutdown(): Promise<void>;
}

/**
 * Serves HTTP/3 on a UDP port with `handler`.
 *
 * @throws {Deno.errors.AddrInUse} If the port is taken.
 */
export function serveH3(options: ServeH3Options, handler: H3Handler): H3Server {
  const endpoint = new Deno.QuicEndpoint({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 443,
  });
  const listener = endpoint.listen({
    cert: options.cert,
    key: options.key,
    alpnProtocols: options.alpnProtocols ?? ["h3"],
    maxConcurrentBidirectionalStreams: 256,
    ...options.quic,
  });
  const addr = endpoint.addr;
  const conns = new Set<ServerConnection>();
  const connTasks = new Set<Promise<void>>();
  let stopping = false;
  const finished = Promise.withResolvers<void>();

  const acceptLoop = (async () => {
    while (!stopping) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await listener.incoming();
      } catch (e) {
        if (!stopping) log.debug(`accept failed: ${e}`);
        break;
      }
      if (stopping) {
        incoming.refuse();
        continue;
      }
      // Never read incoming.remoteAddr and friends: in Deno 2.9 that consumes the connection.
      const task = (async () => {
        let quic: Deno.QuicConn;
        try {
          quic = await incoming.accept();
        } catch (e) {
          log.debug(`handshake failed: ${e}`);
          return;
        }
        await serveConnection(quic, options, handler, conns);
      })();
      connTasks.add(task);
      task.finally(() => connTasks.delete(task));
    }
  })();

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () =>
    shutdownPromise ??= (async () => {
      stopping = true;
      try {
        listener.stop();
      } catch {
        // already stopped
      }
      const timeout = options.gracefulTimeout ?? 5000;
      await Promise.all([...conns].map(async (c) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<void>((r) => timer = setTimeout(r, timeout));
        // After the last response, give the client a moment to read it and close first: closing
        // at once could discard response bytes not yet acknowledged.
        const drained = c.drain().then(() =>
          Promise.race([c.session.closed, new Promise<void>((r) => setTimeout(r, Math.min(timeout, 1000)))])
        );
        await Promise.race([drained, deadline]);
        clearTimeout(timer);
        c.session.close(H3_ERROR.NO_ERROR, "shutdown");
      }));
      await Promise.all([...connTasks]);
      // Closing the endpoint also ends the pending listener.incoming() (listener.stop() does not).
      endpoint.close();
      await acceptLoop;
      finished.resolve();
    })();

  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  options.onListen?.(addr);
  return { addr, finished: finished.promise, shutdown };
}

async function serveConnection(
  quic: Deno.QuicConn,
  options: ServeH3Options,
  handler: H3Handler,
  conns: Set<ServerConnection>,
): Promise<void> {
  let session: H3Session;
  // The session's callbacks reach the connection object once it exists.
  const ref: { conn?: ServerConnection } = {};
  try {
    session = await H3Session.start(quic, "server", {
      ...options,
      onControlEvent: (ev) => {
        if (ev.kind === "cancel-push" && ev.action) ref.conn?.onCancelPush(ev.id, ev.action);
        options.onControlEvent?.(ev);
      },
    });
  } catch (e) {
    log.debug(`starting HTTP/3 failed: ${e}`);
    try {
      quic.close({ closeCode: H3_ERROR.INTERNAL_ERROR, reason: "" });
    } catch {
      // closed
    }
    return;
  }
  const conn = ref.conn = new ServerConnection(session, quic.remoteAddr);
  conns.add(conn);
  try {
    for await (const bidi of quic.incomingBidirectionalStreams) {
      const streamId = Number(bidi.readable.id);
      if (!conn.accept(streamId)) {
        // After GOAWAY: the client will retry it elsewhere (H3_REQUEST_REJECTED semantics).
        bidi.readable.cancel().catch(() => {});
        bidi.writable.close().catch(() => {});
        continue;
      }
      conn.track(handleRequest(conn, bidi, streamId, options, handler));
    }
  } catch (e) {
    if (!session.isClosed) log.debug(`accepting streams failed: ${e}`);
  } finally {
    await session.closed;
    conns.delete(conn);
  }
}

async function handleRequest(
  conn: ServerConnection,
  bidi: Deno.QuicBidirectionalStream,
  streamId: number,
  options: ServeH3Options,
  handler: H3Handler,
): Promise<void> {
  const session = conn.session;
  const src = new StreamSource(bidi.readable, {
    maxFramePayload: session.localSettings.maxFieldSectionSize * 2,
  });
  const writer = bidi.writable.getWriter();
  let headersDone = false;
  let responded = false;
  const abortController = new AbortController();
  conn.requestSignals.add(abortController);
  try {
    // 1. The request HEADERS.
    let head: RequestHead | undefined;
    while (!head) {
      const ev = await src.nextFrame();
      if (ev === null) {
        throw streamError(H3_ERROR.REQUEST_INCOMPLETE, "stream ended before the request headers");
      }
      if (ev.kind === "header") {
        session.state.onRequestFrameHeader(ev.type);
        if (ev.type === FRAME.DATA) throw connectionError(H3_ERROR.FRAME_UNEXPECTED, "DATA before HEADERS");
      } else if (ev.kind === "frame" && ev.type === FRAME.HEADERS) {
        head = parseRequestFields(
          await session.decodeHeaders(streamId, ev.payload),
          session.localSettings.enableConnectProtocol,
        );
      }
    }
    headersDone = true;

    // 2. CONNECT goes to its own hook.
    if (head.method === "CONNECT") {
      responded = true;
      await handleConnect(conn, head, src, writer, streamId, options);
      return;
    }

    // 3. The body and the Request.
    const hasBody = head.method !== "GET" && head.method !== "HEAD";
    const body = incomingBody({
      session,
      streamId,
      source: src,
      ...(head.contentLength !== undefined ? { contentLength: head.contentLength } : {}),
      discard: !hasBody,
      onError: (e) => abortController.abort(e),
    });
    if (!hasBody) body.pipeTo(new WritableStream()).catch(() => {});
    const url = `${head.scheme}://${head.authority ?? head.headers.get("host") ?? "localhost"}${head.path}`;
    const request = new Request(url, {
      method: head.method,
      headers: head.headers,
      signal: abortController.signal,
      ...(hasBody ? { body, duplex: "half" } : {}),
    } as RequestInit);

    const info: H3RequestInfo = {
      remoteAddr: conn.remoteAddr,
      streamId,
      push: (path, response, init) => push(conn, writer, streamId, new URL(path, url), response, init),
      qpackStats: () => ({
        encoderInserts: session.encoder.table.insertCount,
        encoderAcknowledged: session.encoder.knownReceivedCount,
        decoderInserts: session.decoder.table.insertCount,
      }),
    };
    let response: Response;
    try {
      response = await handler(request, info);
    } catch (e) {
      log.debug(`handler failed: ${e}`);
      response = options.onError ? await options.onError(e) : new Response(null, { status: 500 });
    }
    responded = true;
    await writeResponse(session, writer, streamId, response, head.method);
    // The handler did not read the body: stop the client sending it.
    if (hasBody && !body.locked) body.cancel().catch(() => {});
  } catch (e) {
    if (e instanceof H3Error && e.scope === "connection") {
      session.fail(e);
    } else if (e instanceof H3Error && !responded && !session.isClosed) {
      // Malformed request: answer 400 (stream errors cannot carry a code on Deno's QUIC).
      const status = e.code === H3_ERROR.EXCESSIVE_LOAD ? 431 : 400;
      await writeResponse(session, writer, streamId, new Response(null, { status }), "GET").catch(() => {});
    } else if (!session.isClosed) {
      log.debug(`request on stream ${streamId} failed: ${e}`);
    }
    await src.cancel();
    session.abandonStream(streamId, headersDone);
    await writer.abort(e).catch(() => {});
  } finally {
    conn.requestSignals.delete(abortController);
  }
}

async function handleConnect(
  conn: ServerConnection,
  head: RequestHead,
  src: StreamSource,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  streamId: number,
  options: ServeH3Options,
): Promise<void> {
  const session = conn.session;
  if (!options.onConnect) {
    await writeResponse(session, writer, streamId, new Response(null, { status: 501 }), "CONNECT");
    await src.cancel();
    return;
  }
  let responded = false;
  const readable = incomingBody({ session, streamId, source: src });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await writeData(writer, chunk);
    },
    async close() {
      await writer.close();
    },
    async abort(reason) {
      await writer.abort(reason);
    },
  });
  await options.onConnect({
    head,
    remoteAddr: conn.remoteAddr,
    readable,
    writable,
    async respond(status, headers) {
      if (responded) throw new TypeError("Cannot respond twice to a CONNECT request");
      responded = true;
      await writer.write(session.encodeHeaders(streamId, responseFields(status, new Headers(headers))));
      if (status < 200 || status >= 300) {
        await writer.close();
        await src.cancel();
      }
    },
  });
}
