/**
 * The Clash API as a hono app (spec sing-box.md §5.1): CORS (`access_control_allow_origin`,
 * `access_control_allow_private_network`), Bearer-secret authentication (or `?token=` on
 * WebSocket upgrades), the route modules, `/metrics`, and the external UI under `/ui/`.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { serveStatic } from "hono/deno";
import type { ApiDeps } from "./deps.ts";
import { paniqMetrics, renderMetrics, routerMetrics } from "./metrics.ts";
import { registerConnectionRoutes } from "./routes/connections.ts";
import { registerInfoRoutes } from "./routes/info.ts";
import { registerProxyRoutes } from "./routes/proxies.ts";
import { wantsWebSocket } from "./stream.ts";
import { errorResponse } from "./validate.ts";

/** Options of {@linkcode buildApp}. */
export interface AppOptions {
  /** Required Bearer token; empty or undefined disables authentication. */
  secret?: string;
  /** Allowed origins. @default ["*"] */
  allowOrigin?: readonly string[];
  /** Answer Private Network Access preflights. @default false */
  allowPrivateNetwork?: boolean;
  /** Directory served at `/ui/`. */
  externalUi?: string;
}

/** sing-box's check: `?token=` on a WebSocket upgrade, else `Authorization: Bearer <secret>`. */
function authenticate(secret: string): MiddlewareHandler {
  return async function auth(c, next) {
    const token = c.req.query("token");
    const ok = wantsWebSocket(c.req.raw) && token
      ? token === secret
      : c.req.header("authorization") === `Bearer ${secret}`;
    if (!ok) return errorResponse(c, 401, "Unauthorized");
    await next();
  };
}

function corsFor(options: AppOptions): MiddlewareHandler {
  const origins = options.allowOrigin?.length ? options.allowOrigin : ["*"];
  const handler = cors({
    origin: origins.includes("*") ? "*" : [...origins],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Content-Type", "Authorization"],
    maxAge: 300,
  });
  return async function corsPolicy(c, next) {
    // A WebSocket upgrade response must reach Deno untouched; CORS does not apply to it.
    if (wantsWebSocket(c.req.raw)) return await next();
    const preflight = await handler(c, next);
    if (!preflight) return;
    if (options.allowPrivateNetwork && c.req.header("access-control-request-private-network") === "true") {
      preflight.headers.set("Access-Control-Allow-Private-Network", "true");
    }
    return preflight;
  };
}

/** Builds the app. */
export function buildApp(deps: ApiDeps, options: AppOptions = {}): Hono {
  const app = new Hono();
  app.use(corsFor(options));
  if (options.externalUi) {
    const root = options.externalUi;
    app.get("/ui", (c) => c.redirect("/ui/", 301));
    app.get("/ui/*", serveStatic({ root, rewriteRequestPath: (p) => p.replace(/^\/ui/, "") }));
  }
  const api = new Hono();
  if (options.secret) api.use(authenticate(options.secret));
  registerInfoRoutes(api, deps, { externalUi: options.externalUi !== undefined });
  registerProxyRoutes(api, deps);
  registerConnectionRoutes(api, deps);
  api.get("/metrics", (c) =>
    c.text(
      renderMetrics([
        ...routerMetrics(deps.router.tracker),
        ...paniqMetrics(deps.inbounds, deps.outbounds.values()),
      ]),
      200,
      { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    ));
  app.route("/", api);
  app.notFound((c) => errorResponse(c, 404, "Resource not found"));
  app.onError((e, c) => errorResponse(c, 500, e.message));
  return app;
}
