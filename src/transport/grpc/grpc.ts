/**
 * The V2Ray `grpc` transport in its "lite" form (sing-box default build,
 * `transport/v2raygrpclite`): one HTTP/2 `POST /<service_name>/Tun` request per proxied
 * connection, both directions carried as gun messages ({@linkcode GunEncoder}). HTTP/2 runs over
 * TLS (ALPN h2) or, without TLS, as h2c with prior knowledge.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import type { H2Client, H2Request } from "../v2rayhttp/h2.ts";
import { grpcPath, GunDecoder, GunEncoder } from "./gun.ts";

/** Request headers sent by sing-box's grpclite client. */
export const GRPC_CLIENT_HEADERS = {
  "content-type": "application/grpc",
  "user-agent": "grpc-go/1.48.0",
  "te": "trailers",
} as const;

/** Opens one tunnel stream on `client`; `authority` is the `:authority` value (`host:port`). */
export async function grpcConnect(
  client: H2Client,
  serviceName: string,
  authority: string,
  scheme: "https" | "http",
): Promise<Stream> {
  const h = await client.open({
    ":method": "POST",
    ":scheme": scheme,
    ":authority": authority,
    ":path": grpcPath(serviceName),
    ...GRPC_CLIENT_HEADERS,
  });
  return new CodecStream(h, new GunEncoder(), new GunDecoder());
}

/**
 * Checks a request like sing-box's server: path `/<service_name>/Tun`, method POST, content type
 * `application/grpc*`; answers 404 otherwise. Returns the tunnel stream, or `null` with the
 * reason after rejecting.
 */
export function grpcAccept(r: H2Request, serviceName: string): { stream: Stream } | { error: string } {
  const path = String(r.headers[":path"] ?? "");
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch { /* keep raw */ }
  if (decoded !== `/${serviceName}/Tun`) return reject(r, `bad path: ${path}`);
  if (r.headers[":method"] !== "POST") return reject(r, `bad method: ${r.headers[":method"]}`);
  const ct = String(r.headers["content-type"] ?? "");
  if (!ct.startsWith("application/grpc")) return reject(r, `bad content type: ${ct}`);
  const h = r.accept({ "content-type": "application/grpc" });
  return { stream: new CodecStream(h, new GunEncoder(), new GunDecoder()) };
}

function reject(r: H2Request, error: string): { error: string } {
  r.reject(404);
  return { error };
}
