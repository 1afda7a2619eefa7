/**
 * The V2Ray `http` transport over HTTP/2 (with TLS, sing-box `transport/v2rayhttp`): one request
 * stream per proxied connection, method `PUT` unless configured, `:authority` picked from `host`
 * (default `www.example.com`, as v2ray), body and response body carrying raw tunnel bytes.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import type { H2Client, H2Request } from "./h2.ts";
import { checkHttpRequest, headerPairs, normalPath, pickHost, type V2rayHttpOptions } from "./http1.ts";

/** v2ray's default HTTP/2 host. */
export const DEFAULT_H2_HOST = "www.example.com";

/** Header names HTTP/2 forbids or that the transport sets itself. */
const SKIP = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** Opens one tunnel request stream on `client`. */
export async function httpH2Connect(client: H2Client, o: V2rayHttpOptions): Promise<Stream> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of headerPairs(o.headers)) {
    const key = k.toLowerCase();
    if (SKIP.has(key)) continue;
    const prev = headers[key];
    headers[key] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return await client.open({
    ...headers,
    ":method": o.method || "PUT",
    ":scheme": "https",
    ":authority": pickHost(o.host, DEFAULT_H2_HOST),
    ":path": normalPath(o.path),
  });
}

/** Checks a request (host, path prefix, method) and accepts or rejects it. */
export function httpH2Accept(r: H2Request, o: V2rayHttpOptions): { stream: Stream } | { error: string } {
  const path = String(r.headers[":path"] ?? "").split("?")[0];
  const authority = r.headers[":authority"] as string | undefined;
  const bad = checkHttpRequest(o, String(r.headers[":method"] ?? ""), path, authority);
  if (bad) {
    r.reject(bad.status);
    return { error: bad.error };
  }
  const extra: Record<string, string> = { "cache-control": "no-store" };
  for (const [k, v] of headerPairs(o.headers)) if (!SKIP.has(k.toLowerCase())) extra[k.toLowerCase()] = v;
  return { stream: r.accept(extra) };
}
