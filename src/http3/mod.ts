/**
 * HTTP/3 (RFC 9114) and QPACK (RFC 9204) on Deno's QUIC (`--unstable-net`): a client
 * ({@linkcode H3Client}, {@linkcode h3fetch}) returning web `Response`s, a server
 * ({@linkcode serveH3}) taking a web-standard `(Request) => Response` handler, and the sans-I/O
 * pieces underneath (frames, QPACK encoder/decoder, connection rules).
 *
 * @example Usage
 * ```ts ignore
 * import { H3Client, serveH3 } from "./mod.ts";
 * const server = serveH3({ port: 4433, cert, key }, (req) => new Response(`hi ${new URL(req.url).pathname}`));
 * const client = new H3Client({ caCerts: [ca] });
 * console.log(await (await client.fetch("https://localhost:4433/x")).text()); // "hi /x"
 * await client.close();
 * await server.shutdown();
 * ```
 * @module
 */
export {
  abortable,
  H3Client,
  type H3ClientOptions,
  type H3ConnectionStats,
  type H3ConnectOptions,
  h3fetch,
  type H3Tunnel,
  RequestRejectedError,
  responseTrailers,
} from "./client.ts";
export {
  type H3ConnectRequest,
  type H3Handler,
  type H3RequestInfo,
  type H3Server,
  serveH3,
  type ServeH3Options,
  withTrailers,
} from "./server.ts";
export { fileHandler, type FileHandlerOptions } from "./file_server.ts";
export { H3_ERROR, H3Error, h3ErrorName, type H3ErrorScope } from "./errors.ts";
export { H3Session, type H3SessionOptions } from "./session.ts";
export { H3ConnectionState, type Role, STREAM_TYPE } from "./connection_state.ts";
export { type CancelAction, type PushPhase, ServerPushes } from "./push_state.ts";
export { DEFAULT_SETTINGS, type H3Settings, parseSettings, SETTING } from "./settings.ts";
export { FRAME, type FrameEvent, FrameReader } from "./frames.ts";
export * from "./qpack/mod.ts";
