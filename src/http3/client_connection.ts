/**
 * One HTTP/3 client connection: sends requests and CONNECT tunnels on its request streams, reads
 * responses (interim 1xx skipped, trailers kept), receives server pushes and follows GOAWAY.
 * {@linkcode H3Client} pools these by origin.
 *
 * @module
 */
import { connectionError, H3_ERROR, H3Error, streamError } from "./errors.ts";
import { FRAME, parsePushPromisePayload } from "./frames.ts";
import { parseRequestFields, parseResponseFields, requestFields, responseHasNoBody } from "./message.ts";
import { incomingBody, writeBody, writeData } from "./message_io.ts";
import { H3Session, type H3SessionOptions } from "./session.ts";
import { StreamSource } from "./stream_source.ts";

/** Client options: TLS trust, QUIC transport and HTTP/3 session settings. */
export interface H3ClientOptions extends Omit<H3SessionOptions, "onGoaway" | "onPushStream" | "maxPushId"> {
  /** Extra trusted CA certificates (PEM), added to the default roots. */
  caCerts?: string[];
  /** Accept a server certificate by SHA-256 hash instead of a CA chain. */
  serverCertificateHashes?: { algorithm: "sha-256"; value: BufferSource }[];
  /** TLS server name; defaults to the URL host. */
  serverName?: string;
  /**
   * Maps the URL host to the address to dial (the URL host still goes into SNI and
   * `:authority`). Unset: `Deno.connectQuic` resolves it.
   */
  resolveHost?: (hostname: string) => string | Promise<string>;
  /** QUIC endpoint to connect from (shared UDP socket); a new one per connection otherwise. */
  endpoint?: Deno.QuicEndpoint;
  /** Close a connection after it has been idle this long (ms); 0 keeps it. @default 30000 */
  idleTimeout?: number;
  /** QUIC transport options passed to `Deno.connectQuic`. */
  quic?: Deno.QuicTransportOptions;
  /** Accept up to this many server pushes per connection (sends MAX_PUSH_ID). @default 0 */
  maxPushes?: number;
  /**
   * Called for each server push with the promised request, its response, and `cancel`, which
   * refuses the push (RFC 9114 §7.2.3): CANCEL_PUSH if its push stream has not arrived, else
   * the stream stops being read; `response` then rejects with H3_REQUEST_CANCELLED. Once
   * `response` has resolved, cancel its body instead.
   */
  onPush?: (request: Request, response: Promise<Response>, cancel: () => void) => void;
}

/** Options of {@linkcode H3Client.connect}. */
export interface H3ConnectOptions {
  /** Extended CONNECT protocol (RFC 9220), e.g. `websocket`; plain CONNECT when absent. */
  protocol?: string;
  headers?: HeadersInit;
}

/** An open CONNECT tunnel: the server's response and the two byte directions. */
export interface H3Tunnel {
  status: number;
  headers: Headers;
  /** Bytes from the server (DATA payloads). */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the server (sent as DATA frames); close it to end the request stream. */
  writable: WritableStream<Uint8Array>;
}

const TRAILERS = new WeakMap<Response, Promise<Headers>>();

/**
 * Returns the trailers of a response received over HTTP/3; resolves once the body has been read
 * (to an empty `Headers` when there were none).
 */
export function responseTrailers(res: Response): Promise<Headers> {
  return TRAILERS.get(res) ?? Promise.resolve(new Headers());
}

/** Thrown when the server's GOAWAY shows a request was not processed; it is safe to retry. */
export class RequestRejectedError extends H3Error {
  constructor(detail: string) {
    super(H3_ERROR.REQUEST_REJECTED, "stream", detail);
    this.name = "RequestRejectedError";
  }
}

/** A push the server promised, as this client tracks it. */
interface PromisedPush {
  request: Request;
  /** The promised field section, to compare a repeated PUSH_PROMISE with. */
  fieldsKey: string;
  response: PromiseWithResolvers<Response>;
  /** Its push stream, once it arrived. */
  source?: StreamSource;
  cancelled?: boolean;
  /** Whether `response` resolved (cancel the body then). */
  resolved?: boolean;
  /** Whether another push ID was allowed in place of this one. */
  replaced?: boolean;
}

/** One client connection and its in-flight requests. */
export class ClientConnection {
  readonly session: H3Session;
  #active = 0;
  #draining = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #idleTimeout: number;
  readonly #inflight = new Map<number, (e: Error) => void>();
  readonly #pushes = new Map<number, PromisedPush>();
  /** Push streams the server opened on this connection (cancelled pushes included). */
  pushStreams = 0;
  readonly #options: H3ClientOptions;
  #nextPushAllowance: number;

  private constructor(session: H3Session, options: H3ClientOptions) {
    this.session = session;
    this.#options = options;
    this.#idleTimeout = options.idleTimeout ?? 30000;
    this.#nextPushAllowance = options.maxPushes ?? 0;
  }

  static async connect(url: URL, options: H3ClientOptions): Promise<ClientConnection> {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : 443;
    const connectOptions: Deno.ConnectQuicOptions<false> = {
      ...options.quic,
      hostname: options.resolveHost ? await options.resolveHost(hostname) : hostname,
      port,
      serverName: options.serverName ?? hostname,
      alpnProtocols: ["h3"],
    };
    if (options.caCerts) connectOptions.caCerts = options.caCerts;
    if (options.endpoint) connectOptions.endpoint = options.endpoint;
    if (options.serverCertificateHashes) {
      (connectOptions as unknown as Record<string, unknown>).serverCertificateHashes =
        options.serverCertificateHashes;
    }
    const quic = await Deno.connectQuic(connectOptions);
    // The session's callbacks reach the connection object once it exists.
    const ref: { conn?: ClientConnection } = {};
    const maxPushes = options.maxPushes ?? 0;
    const session = await H3Session.start(quic, "client", {
      ...options,
      ...(maxPushes > 0 ? { maxPushId: maxPushes - 1 } : {}),
      onGoaway: (id) => ref.conn?.onGoaway(id),
      onPushStream: (pushId, src, streamId) => ref.conn?.onPushStream(pushId, src, streamId),
      onControlEvent: (ev) => {
        if (ev.kind === "cancel-push") ref.conn?.onCancelPush(ev.id);
      },
    });
    const conn = ref.conn = new ClientConnection(session, options);
    session.closed.then(() => conn.#onClosed());
    return conn;
  }

  /** Whether new requests may use this connection. */
  get usable(): boolean {
    return !this.#draining && !this.session.isClosed;
  }

  onGoaway(id: number): void {
    this.#draining = true;
    // Requests on streams at or above the GOAWAY ID were not processed and may be retried.
    for (const [streamId, reject] of this.#inflight) {
      if (streamId >= id) reject(new RequestRejectedError(`server GOAWAY ${id} rejected stream ${streamId}`));
    }
    if (this.#active === 0) this.session.close();
  }

  #onClosed(): void {
    clearTimeout(this.#idleTimer);
    const e = this.session.error ?? new Error("HTTP/3 connection closed");
    for (const reject of this.#inflight.values()) reject(e);
    for (const p of this.#pushes.values()) p.response.reject(e);
  }

  #begin(): void {
    this.#active++;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #end(): void {
    this.#active--;
    if (this.#active > 0) return;
    if (this.#draining) {
      this.session.close();
    } else if (this.#idleTimeout > 0) {
      const timer = setTimeout(() => this.session.close(), this.#idleTimeout);
      Deno.unrefTimer(timer);
      this.#idleTimer = timer;
    }
  }

  async request(req: Request): Promise<Response> {
    const url = new URL(req.url);
    this.#begin();
    let ended = false;
    const end = () => {
      if (!ended) {
        ended = true;
        this.#end();
      }
    };
    let streamId = -1;
    let src: StreamSource | undefined;
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    let headersDone = false;
    const abort = (e: unknown) => {
      src?.cancel().catch(() => {});
      writer?.abort(e).catch(() => {});
      if (streamId >= 0) this.session.abandonStream(streamId, headersDone);
      this.#inflight.delete(streamId);
      end();
    };
    try {
      req.signal.throwIfAborted();
      const fields = requestFields(req.method, "https", url.host, url.pathname + url.search, req.headers);
      this.session.checkSectionSize(fields); // before anything goes on the wire
      const stream = await this.session.conn.createBidirectionalStream({ waitUntilAvailable: true });
      streamId = Number(stream.writable.id);
      src = new StreamSource(stream.readable, {
        maxFramePayload: this.session.localSettings.maxFieldSectionSize * 2,
      });
      writer = stream.writable.getWriter();
      const failed = Promise.withResolvers<never>();
      failed.promise.catch(() => {});
      this.#inflight.set(streamId, failed.reject);
      const onAbort = () => failed.reject(req.signal.reason ?? new DOMException("Aborted", "AbortError"));
      req.signal.addEventListener("abort", onAbort, { once: true });

      const headersFrame = this.session.encodeHeaders(streamId, fields);
      const w = writer;
      const sending = (async () => {
        await w.write(headersFrame);
        if (req.body) await writeBody(w, req.body);
        await w.close();
      })();
      sending.catch((e) => failed.reject(e));

      const head = await Promise.race([this.#readHead(streamId, src), failed.promise]);
      headersDone = true;
      const trailers = Promise.withResolvers<Headers>();
      trailers.promise.catch(() => {});
      const noBody = responseHasNoBody(req.method, head.status) || head.status === 205;
      let body: ReadableStream<Uint8Array> | null = incomingBody({
        session: this.session,
        streamId,
        source: src,
        ...(head.contentLength !== undefined ? { contentLength: head.contentLength } : {}),
        discard: noBody,
        onEnd: (e) => {
          trailers.resolve(e.trailers);
          req.signal.removeEventListener("abort", onAbort);
          this.#inflight.delete(streamId);
          end();
        },
        onError: (e) => {
          trailers.reject(e);
          req.signal.removeEventListener("abort", onAbort);
          abort(e);
        },
        onPushPromise: (payload) => this.#onPushPromise(streamId, url, payload),
      });
      // Once the response arrived, only a body read can fail; route late failures there.
      this.#inflight.set(streamId, (e) => body?.cancel(e).catch(() => {}));
      if (noBody) {
        // Drain what the server sends (trailers, stray DATA) without exposing it.
        const drain = body;
        body = null;
        drain.pipeTo(new WritableStream()).catch(() => {});
      }
      const res = new Response(body, { status: head.status, headers: head.headers });
      Object.defineProperty(res, "url", { value: url.href });
      TRAILERS.set(res, trailers.promise);
      return res;
    } catch (e) {
      abort(e);
      if (e instanceof H3Error && e.scope === "connection") this.session.fail(e);
      throw e;
    }
  }

  /** Opens a CONNECT or extended CONNECT (RFC 9220) tunnel. */
  async tunnel(url: URL, options: H3ConnectOptions): Promise<H3Tunnel> {
    if (options.protocol !== undefined) {
      const settings = await this.session.peerSettings;
      if (!settings.enableConnectProtocol) {
        throw new TypeError(
          `Cannot open a "${options.protocol}" tunnel: the server does not support extended CONNECT`,
        );
      }
    }
    this.#begin();
    const stream = await this.session.conn.createBidirectionalStream({ waitUntilAvailable: true });
    const streamId = Number(stream.writable.id);
    const src = new StreamSource(stream.readable, {
      maxFramePayload: this.session.localSettings.maxFieldSectionSize * 2,
    });
    const writer = stream.writable.getWriter();
    let done = false;
    const end = () => {
      if (!done) {
        done = true;
        this.#end();
      }
    };
    try {
      const fields = requestFields(
        "CONNECT",
        "https",
        url.host,
        url.pathname + url.search,
        new Headers(options.headers),
        options.protocol,
      );
      await writer.write(this.session.encodeHeaders(streamId, fields));
      const head = await this.#readHead(streamId, src);
      const readable = incomingBody({
        session: this.session,
        streamId,
        source: src,
        onEnd: end,
        onError: end,
      });
      const writable = new WritableStream<Uint8Array>({
        write: (chunk) => writeData(writer, chunk),
        close: () => writer.close(),
        abort: (reason) => writer.abort(reason),
      });
      return { status: head.status, headers: head.headers, readable, writable };
    } catch (e) {
      await src.cancel();
      await writer.abort(e).catch(() => {});
      this.session.abandonStream(streamId, false);
      end();
      if (e instanceof H3Error && e.scope === "connection") this.session.fail(e);
      throw e;
    }
  }

  /** Reads frames up to the final response's HEADERS (skipping 1xx) and validates them. */
  async #readHead(streamId: number, src: StreamSource, pushStream = false) {
    for (;;) {
      const ev = await src.nextFrame();
      if (ev === null) throw streamError(H3_ERROR.MESSAGE_ERROR, "stream ended before the response");
      if (ev.kind === "header") {
        this.session.state.onRequestFrameHeader(ev.type, pushStream);
        if (ev.type === FRAME.DATA) throw connectionError(H3_ERROR.FRAME_UNEXPECTED, "DATA before HEADERS");
        continue;
      }
      if (ev.kind !== "frame") continue;
      if (ev.type === FRAME.HEADERS) {
        const head = parseResponseFields(await this.session.decodeHeaders(streamId, ev.payload));
        if (head.status >= 200) return head;
      } else if (ev.type === FRAME.PUSH_PROMISE) {
        // Handled the same way as in the body.
        await this.#onPushPromise(streamId, new URL("https://invalid/"), ev.payload);
      }
    }
  }

  async #onPushPromise(streamId: number, base: URL, payload: Uint8Array): Promise<void> {
    const { pushId, fieldSection } = parsePushPromisePayload(payload);
    if (pushId > this.session.state.maxPushId) {
      throw connectionError(H3_ERROR.ID_ERROR, `PUSH_PROMISE push ID ${pushId} above MAX_PUSH_ID`);
    }
    const fields = await this.session.decodeHeaders(streamId, fieldSection);
    const key = JSON.stringify(fields);
    const known = this.#pushes.get(pushId);
    if (known) {
      // The same push promised on another request stream must promise the same request (§7.2.5).
      if (known.fieldsKey !== key) {
        throw connectionError(
          H3_ERROR.GENERAL_PROTOCOL_ERROR,
          `PUSH_PROMISE for push ID ${pushId} repeated with different fields`,
        );
      }
      return;
    }
    const head = parseRequestFields(fields);
    const url = `${head.scheme ?? base.protocol.slice(0, -1)}://${head.authority ?? base.host}${
      head.path ?? "/"
    }`;
    const request = new Request(url, { method: head.method, headers: head.headers });
    const response = Promise.withResolvers<Response>();
    response.promise.catch(() => {});
    this.#pushes.set(pushId, { request, response, fieldsKey: key });
    if (this.#options.onPush) this.#options.onPush(request, response.promise, () => this.cancelPush(pushId));
  }

  /**
   * Refuses push `pushId` (RFC 9114 §7.2.3): sends CANCEL_PUSH while its push stream has not
   * arrived; once it has, only stops reading it (a client should not send CANCEL_PUSH then).
   */
  cancelPush(pushId: number): void {
    const p = this.#pushes.get(pushId);
    if (!p || p.cancelled || p.resolved) return;
    p.cancelled = true;
    const e = new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", `push ${pushId} cancelled by the client`);
    p.response.reject(e);
    if (p.source) {
      p.source.cancel(e).catch(() => {});
    } else if (!this.session.isClosed) {
      this.session.sendCancelPush(pushId);
    }
    this.#replacePush(p);
  }

  /** Allows the server one more push ID in place of a push that completed or was cancelled. */
  #replacePush(p: PromisedPush): void {
    if (p.replaced) return;
    p.replaced = true;
    this.session.allowPushes(this.#nextPushAllowance++);
  }

  /** The server withdrew a promised push (CANCEL_PUSH): its response promise rejects. */
  onCancelPush(pushId: number): void {
    const p = this.#pushes.get(pushId);
    if (!p) return;
    p.response.reject(new H3Error(H3_ERROR.REQUEST_CANCELLED, "stream", `server cancelled push ${pushId}`));
  }

  onPushStream(pushId: number, src: StreamSource, streamId: number): void {
    this.pushStreams++;
    (async () => {
      // The stream may arrive before its PUSH_PROMISE; wait briefly for it.
      for (let i = 0; i < 50 && !this.#pushes.has(pushId); i++) await new Promise((r) => setTimeout(r, 10));
      const p = this.#pushes.get(pushId);
      // Unknown, or cancelled before its stream came: abort reading (RFC 9114 §7.2.3).
      if (!p || p.cancelled) return await src.cancel();
      p.source = src;
      this.#begin();
      let head;
      try {
        head = await this.#readHead(streamId, src, true).catch(async (e) => {
          await src.cancel();
          throw e;
        });
      } catch (e) {
        if (e instanceof H3Error && e.scope === "connection") this.session.fail(e);
        p.response.reject(e);
        this.#end();
        return;
      }
      const body = incomingBody({
        session: this.session,
        streamId,
        source: src,
        pushStream: true,
        ...(head.contentLength !== undefined ? { contentLength: head.contentLength } : {}),
        onEnd: () => this.#end(),
        onError: () => this.#end(),
      });
      p.resolved = true;
      p.response.resolve(new Response(responseHasNoBody(p.request.method, head.status) ? null : body, head));
      this.#replacePush(p);
    })().catch(() => {});
  }
}
