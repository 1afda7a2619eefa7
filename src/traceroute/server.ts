/**
 * The HTTP API (spec traceroute.md §3): `GET /traceroute` with silently defaulted parameters and
 * typed JSON errors, `GET|HEAD /health`, Go `net/http` status texts for 404/405. Built on hono.
 *
 * @module
 */
import { Hono } from "hono";
import { classifyError, httpStatus } from "./errors.ts";
import { defaultParams, parseGoBool, parseGoInt, type TracerouteParams, wrapUint8 } from "./params.ts";
import { toCompactJSON } from "./result.ts";
import { type RunnerDeps, runTraceroute } from "./runner.ts";

/** Formats a duration like Go's `time.Duration.String()` (`3m2.123456789s`, `150ms`). */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  const sign = neg ? "-" : "";
  const frac = (v: number, digits: number) => {
    const s = String(v).padStart(digits, "0").replace(/0+$/, "");
    return s ? `.${s}` : "";
  };
  if (u < 1e9) {
    if (u < 1e3) return `${sign}${u}ns`;
    if (u < 1e6) return `${sign}${Math.floor(u / 1e3)}${frac(u % 1e3, 3)}µs`;
    return `${sign}${Math.floor(u / 1e6)}${frac(u % 1e6, 6)}ms`;
  }
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  const s = `${Math.floor(u / 1e9)}${frac(u % 1e9, 9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

/** Parses `/traceroute` query parameters; the first occurrence of a key wins. */
export function paramsFromQuery(url: URL): TracerouteParams | { error: string } {
  const q = url.searchParams;
  const target = q.get("target");
  if (!target) return { error: "missing required parameter: target" };
  const p = defaultParams(target);
  const str = (k: string, d: string) => q.has(k) ? q.get(k)! : d;
  const int = (k: string, d: number) => {
    const v = q.get(k);
    const n = v === null ? null : parseGoInt(v);
    return n ?? d;
  };
  const bool = (k: string, d: boolean) => {
    const v = q.get(k);
    const b = v === null ? null : parseGoBool(v);
    return b ?? d;
  };
  p.protocol = str("protocol", p.protocol);
  p.port = int("port", p.port);
  p.tracerouteQueries = int("traceroute-queries", p.tracerouteQueries);
  p.maxTtl = wrapUint8(int("max-ttl", p.maxTtl));
  p.timeoutMs = int("timeout", p.timeoutMs);
  p.tcpMethod = str("tcp-method", p.tcpMethod);
  p.e2eQueries = int("e2e-queries", p.e2eQueries);
  p.wantV6 = bool("ipv6", p.wantV6);
  p.reverseDns = bool("reverse-dns", p.reverseDns);
  p.collectSourcePublicIP = bool("source-public-ip", p.collectSourcePublicIP);
  p.useWindowsDriver = bool("windows-driver", p.useWindowsDriver);
  p.skipPrivateHops = bool("skip-private-hops", p.skipPrivateHops);
  return p;
}

function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}

function json(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

/** Builds the hono app. `deps` replaces the runner's I/O in tests. */
export function createApp(deps: RunnerDeps = {}, startedAt = performance.now()): Hono {
  const app = new Hono();
  app.all("/traceroute", async (c) => {
    if (c.req.method !== "GET") return plain(405, "Method not allowed");
    const p = paramsFromQuery(new URL(c.req.url));
    if ("error" in p) return json(400, toCompactJSON({ code: "INVALID_REQUEST", message: p.error }));
    try {
      const results = await runTraceroute(p, { ...deps, signal: c.req.raw.signal });
      return json(200, toCompactJSON(results));
    } catch (e) {
      const code = classifyError(e);
      const message = e instanceof Error ? e.message : String(e);
      deps.log?.("debug", `traceroute failed (${code}): ${message}`);
      return json(httpStatus(code), toCompactJSON({ code, message }));
    }
  });
  app.all("/health", (c) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return plain(405, "Method not allowed");
    if (c.req.method === "HEAD") {
      return new Response(null, { status: 200, headers: { "content-type": "application/json" } });
    }
    const body = {
      status: "healthy",
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      uptime: goDuration((performance.now() - startedAt) * 1e6),
    };
    return json(200, toCompactJSON(body));
  });
  app.notFound(() => plain(404, "404 page not found"));
  return app;
}
