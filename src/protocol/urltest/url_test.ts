/**
 * The URL test (sing-box `common/urltest.URLTest`): dial the URL's host through an outbound,
 * speak TLS for `https`, send one `HEAD` request and time it from the start of the dial to the
 * response head. Any status counts as success; redirects are not followed.
 *
 * @module
 */
import type { Dialer, Stream } from "../../adapter/types.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import { writeAll } from "../../common/prefixed_stream.ts";
import { decodeResponseHead, encodeRequestHead } from "../http/codec.ts";
import { startTlsOverStream } from "../../transport/tls/client.ts";

/** URL tested when a group or request gives none. */
export const DEFAULT_TEST_URL = "https://www.gstatic.com/generate_204";
/** Limit of one test, ms (sing-box `C.TCPTimeout`). */
export const URL_TEST_TIMEOUT_MS = 15_000;

/** A URL test ran out of time. */
export class UrlTestTimeoutError extends Error {
  constructor(ms: number) {
    super(`URL test timed out after ${ms} ms`);
    this.name = "UrlTestTimeoutError";
  }
}

/** Options of {@linkcode urlTest}. */
export interface UrlTestOptions {
  /** Aborts the test (the stream is closed and the promise rejects). */
  signal?: AbortSignal;
  /** Limit of the whole test, ms. @default {URL_TEST_TIMEOUT_MS} */
  timeoutMs?: number;
  /** Extra PEM trust anchors for `https` (tests with a local CA). */
  caCerts?: string[];
}

/**
 * Parses a test URL into the dial target and request target.
 * @throws {TypeError} If it is not an absolute `http` or `https` URL
 */
export function parseTestUrl(
  link: string,
): { https: boolean; host: string; port: number; path: string; authority: string } {
  let u: URL;
  try {
    u = new URL(link);
  } catch {
    throw new TypeError(`Invalid test URL "${link}"`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`Invalid test URL "${link}": scheme must be http or https`);
  }
  const https = u.protocol === "https:";
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port ? Number(u.port) : https ? 443 : 80;
  return { https, host, port, path: `${u.pathname}${u.search}`, authority: u.host };
}

/**
 * Measures the delay of `link` through `dialer`.
 *
 * @param dialer the outbound under test
 * @param link an `http` or `https` URL; empty means {@linkcode DEFAULT_TEST_URL}
 * @returns delay from dial start to response head, ms, at least 1 (so success never reads as 0,
 *   which the Clash API treats as failure)
 * @throws {UrlTestTimeoutError} After `timeoutMs`
 * @throws {Error} On dial, TLS or HTTP failure, or abort
 */
export async function urlTest(dialer: Dialer, link: string, options: UrlTestOptions = {}): Promise<number> {
  const target = parseTestUrl(link || DEFAULT_TEST_URL);
  const timeoutMs = options.timeoutMs ?? URL_TEST_TIMEOUT_MS;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new UrlTestTimeoutError(timeoutMs)), timeoutMs);
  const forward = () => ctl.abort(options.signal!.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener("abort", forward, { once: true });
  let stream: Stream | undefined;
  const closeStream = () => {
    try {
      stream?.close();
    } catch { /* closed */ }
  };
  ctl.signal.addEventListener("abort", closeStream, { once: true });
  const start = performance.now();
  try {
    ctl.signal.throwIfAborted();
    stream = await dialer.dial({ host: target.host, port: target.port }, { signal: ctl.signal });
    ctl.signal.throwIfAborted();
    if (target.https) {
      stream = await startTlsOverStream(stream, {
        serverName: target.host,
        insecure: false,
        caCerts: options.caCerts,
      });
    }
    await writeAll(
      stream,
      encodeRequestHead({
        method: "HEAD",
        target: target.path || "/",
        version: "HTTP/1.1",
        headers: [["Host", target.authority], ["User-Agent", "switchyard"], ["Connection", "close"]],
      }),
    );
    await new HandshakeReader(stream).read(decodeResponseHead, "http");
    return Math.max(1, Math.round(performance.now() - start));
  } catch (e) {
    if (ctl.signal.aborted) {
      const r = ctl.signal.reason;
      throw r instanceof Error ? r : new Error(`URL test aborted: ${String(r)}`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", forward);
    ctl.signal.removeEventListener("abort", closeStream);
    closeStream();
  }
}
