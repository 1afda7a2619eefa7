/**
 * VMess sessions over any {@linkcode Stream}: the client side wraps a stream after sending the
 * AEAD request header; the server side authenticates the header (auth ID time window ±120 s,
 * replay filter) and wraps the rest.
 *
 * @module
 */
import type { Socksaddr, Stream } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { ByteQueue as Queue } from "../../common/byte_queue.ts";
import { CodecStream, type StreamDecoder } from "../../common/codec_stream.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { HandshakeReader } from "../../common/handshake_reader.ts";
import type { ReplayFilter } from "../../common/replay_filter.ts";
import { VmessBodyDecoder, VmessBodyEncoder } from "./body.ts";
import {
  CMD_TCP,
  decodeRequestHeader,
  encodeRequestHeader,
  openAuthId,
  openRequestHeader,
  openRequestLength,
  openResponseHeader,
  openResponseLength,
  OPT_AUTHENTICATED_LENGTH,
  OPT_CHUNK_MASKING,
  OPT_CHUNK_STREAM,
  OPT_GLOBAL_PADDING,
  REQUEST_PREFIX_LEN,
  responseKeys,
  sealRequest,
  sealResponse,
  SECURITY,
  type VmessRequest,
  type VmessSecurity,
  type VmessUser,
} from "./header.ts";

/** Largest clock difference accepted in an auth ID, seconds (v2ray). */
export const AUTH_ID_WINDOW_S = 120;

/** Client-side options. */
export interface VmessClientOptions {
  /** `auto` picks aes-128-gcm (AES-NI through OpenSSL). @default "auto" */
  security?: VmessSecurity | "auto";
  globalPadding?: boolean;
  command?: number;
  /** Treat each write as one chunk (UDP). */
  packetMode?: boolean;
  /** Seal chunk sizes (option 0x10, sing-box `authenticated_length`). */
  authenticatedLength?: boolean;
}

/** Resolves a configured security name to the header byte and options. */
export function clientSecurity(
  name: VmessSecurity | "auto" | undefined,
  globalPadding: boolean,
  authenticatedLength = false,
) {
  const sec = !name || name === "auto" ? "aes-128-gcm" : name;
  if (sec === "zero") return { security: SECURITY.none, option: 0 };
  let option = OPT_CHUNK_STREAM | OPT_CHUNK_MASKING;
  if (globalPadding && sec !== "none") option |= OPT_GLOBAL_PADDING;
  if (authenticatedLength && sec !== "none") option |= OPT_AUTHENTICATED_LENGTH;
  return { security: SECURITY[sec], option };
}

class ResponseDecoder implements StreamDecoder {
  #key: Uint8Array;
  #iv: Uint8Array;
  #respV: number;
  #len = -1;
  #body: VmessBodyDecoder | null = null;
  constructor(req: VmessRequest) {
    const { key, iv } = responseKeys(req);
    this.#key = key;
    this.#iv = iv;
    this.#respV = req.responseV;
    this.#bodyParams = {
      security: req.security,
      option: req.option,
      key,
      iv,
      requestKey: req.bodyKey,
      requestIv: req.bodyIV,
    };
  }
  #bodyParams;
  get done(): boolean {
    return this.#body?.done ?? false;
  }
  decode(q: ByteQueue): Uint8Array | null {
    if (this.#body) return this.#body.decode(q);
    if (this.#len < 0) {
      if (q.length < 18) return null;
      this.#len = openResponseLength(this.#key, this.#iv, q.take(18).slice());
      if (this.#len < 0) throw new ProtocolError("vmess", 0, "response header length authentication failed");
    }
    if (q.length < this.#len + 16) return null;
    const h = openResponseHeader(this.#key, this.#iv, q.take(this.#len + 16).slice());
    if (!h || h.length < 4) throw new ProtocolError("vmess", 18, "response header authentication failed");
    if (h[0] !== this.#respV) {
      throw new ProtocolError("vmess", 18, "response header does not match the request");
    }
    this.#body = new VmessBodyDecoder(this.#bodyParams);
    return new Uint8Array(0);
  }
}

/** The pieces of a client session: request prefix, body encoder, response decoder. */
export function vmessClientParts(user: VmessUser, destination: Socksaddr, options: VmessClientOptions = {}) {
  const { security, option } = clientSecurity(
    options.security,
    options.globalPadding ?? false,
    options.authenticatedLength ?? false,
  );
  const req: VmessRequest = {
    bodyIV: crypto.getRandomValues(new Uint8Array(16)),
    bodyKey: crypto.getRandomValues(new Uint8Array(16)),
    responseV: crypto.getRandomValues(new Uint8Array(1))[0],
    option,
    security,
    command: options.command ?? CMD_TCP,
    destination,
  };
  return {
    prefix: sealRequest(user, encodeRequestHeader(req)),
    encoder: new VmessBodyEncoder(
      { security, option, key: req.bodyKey, iv: req.bodyIV, requestKey: req.bodyKey, requestIv: req.bodyIV },
      options.packetMode ?? false,
    ),
    decoder: new ResponseDecoder(req) as StreamDecoder,
  };
}

/** Opens a VMess session to `destination` over `inner`. The request goes out with the first write or read. */
export function vmessClient(
  inner: Stream,
  user: VmessUser,
  destination: Socksaddr,
  options: VmessClientOptions = {},
): Stream {
  const { prefix, encoder, decoder } = vmessClientParts(user, destination, options);
  return new CodecStream(inner, encoder, decoder, { rawPrefix: prefix });
}

/** A request accepted by {@linkcode vmessServerHandshake}. */
export interface VmessAccepted {
  user: VmessUser;
  request: VmessRequest;
  /** Body bytes already read. */
  queue: ByteQueue;
  /** Sealed response header, to send before the first response byte. */
  responsePrefix: Uint8Array;
  /** Encoder for the response body (`packetMode` for UDP). */
  encoder(packetMode: boolean): VmessBodyEncoder;
  /** Decoder for the request body. */
  decoder: VmessBodyDecoder;
}

/**
 * Reads and authenticates a request. Throws on any failure; the caller then drains the
 * connection silently.
 *
 * @throws {ProtocolError} If no user matches, the time is out of window, the auth ID is
 *   replayed, or the header is forged or malformed.
 */
export async function vmessServerHandshake(
  reader: HandshakeReader,
  users: readonly VmessUser[],
  replay: ReplayFilter,
  nowMs: () => number = Date.now,
): Promise<VmessAccepted> {
  const prefix = (await reader.peek(REQUEST_PREFIX_LEN)).slice(0, REQUEST_PREFIX_LEN);
  if (prefix.length < REQUEST_PREFIX_LEN) {
    throw new ProtocolError("vmess", prefix.length, "truncated request");
  }
  const authId = prefix.subarray(0, 16);
  const now = nowMs();
  let user: VmessUser | undefined;
  for (const u of users) {
    const t = openAuthId(u, authId);
    if (t < 0) continue;
    if (Math.abs(t - now / 1000) > AUTH_ID_WINDOW_S) {
      throw new ProtocolError("vmess", 0, "auth ID time out of window");
    }
    user = u;
    break;
  }
  if (!user) throw new ProtocolError("vmess", 0, "no user matches the auth ID");
  if (!replay.check(authId, now)) throw new ProtocolError("vmess", 0, "replayed auth ID");
  const len = openRequestLength(user, prefix);
  if (len < 0) throw new ProtocolError("vmess", 16, "request length authentication failed");
  const all = await reader.peek(REQUEST_PREFIX_LEN + len + 16);
  if (all.length < REQUEST_PREFIX_LEN + len + 16) {
    throw new ProtocolError("vmess", all.length, "truncated request");
  }
  const header = openRequestHeader(
    user,
    prefix,
    all.slice(REQUEST_PREFIX_LEN, REQUEST_PREFIX_LEN + len + 16),
  );
  if (!header) throw new ProtocolError("vmess", REQUEST_PREFIX_LEN, "request header authentication failed");
  const request = decodeRequestHeader(header);
  reader.skip(REQUEST_PREFIX_LEN + len + 16);
  const { key, iv } = responseKeys(request);
  const queue = new Queue(256 * 1024);
  queue.push(reader.rest());
  const { security, option } = request;
  return {
    user,
    request,
    queue,
    responsePrefix: sealResponse(key, iv, request.responseV),
    encoder: (packetMode) =>
      new VmessBodyEncoder({
        security,
        option,
        key,
        iv,
        requestKey: request.bodyKey,
        requestIv: request.bodyIV,
      }, packetMode),
    decoder: new VmessBodyDecoder({
      security,
      option,
      key: request.bodyKey,
      iv: request.bodyIV,
      requestKey: request.bodyKey,
      requestIv: request.bodyIV,
    }),
  };
}

/** The TCP session stream of an accepted request. */
export function vmessServerStream(inner: Stream, a: VmessAccepted): Stream {
  return new CodecStream(inner, a.encoder(false), a.decoder, { queue: a.queue, rawPrefix: a.responsePrefix });
}
