/**
 * The smaller Clash API endpoints (spec sing-box.md §5.1): hello, version, `/configs` (mode),
 * `/rules`, the `/logs` stream, `/dns/query`, the fake-IP flush and the provider stubs.
 *
 * @module
 */
import type { Hono } from "hono";
import { z } from "zod";
import { LOG_LEVELS, type LogLevel, subscribeLogs } from "../../common/log.ts";
import { errorMessage } from "../../common/errors.ts";
import { buildQuery } from "../../dns/client.ts";
import { decodeMessage, typeCode } from "../../dns/message.ts";
import { FakeIpTransport } from "../../dns/transports/fakeip.ts";
import { formatAction } from "../../route/action.ts";
import { LogicalMatcher } from "../../route/rule/default_rule.ts";
import { SING_BOX_COMPAT, VERSION } from "../../version.ts";
import type { ApiDeps } from "../deps.ts";
import { dnsResponseJson } from "../dns_json.ts";
import { jsonStream } from "../stream.ts";
import { checkBody, checkQuery, errorResponse } from "../validate.ts";

/** The level `/configs` reports: trace shows as debug, fatal and panic as error (as sing-box). */
function reportedLevel(level: LogLevel): LogLevel {
  if (level === "trace") return "debug";
  if (level === "fatal" || level === "panic") return "error";
  return level;
}

const configsPatch = z.looseObject({ mode: z.string({ error: "expected string" }).optional() });

const logsQuery = z.object({
  level: z.enum([...LOG_LEVELS, "warning"], { error: `expected one of ${LOG_LEVELS.join(", ")}` }).optional(),
});

const dnsQuery = z.object({
  name: z.string({ error: "expected a domain name" }).min(1, { error: "expected a domain name" }).max(253, {
    error: "expected a domain name of at most 253 characters",
  }),
  type: z.string().optional(),
});

/** Registers `/`, `/version`, `/configs`, `/rules`, `/logs`, `/dns/query`, `/cache` and `/providers`. */
export function registerInfoRoutes(app: Hono, deps: ApiDeps, options: { externalUi: boolean }): void {
  app.get("/", (c) => {
    if (options.externalUi && c.req.header("content-type") !== "application/json") {
      return c.redirect("/ui/", 307);
    }
    return c.json({ hello: "clash" });
  });

  app.get(
    "/version",
    (c) =>
      c.json({ version: `sing-box ${SING_BOX_COMPAT} (switchyard ${VERSION})`, premium: true, meta: true }),
  );

  app.get("/configs", (c) =>
    c.json({
      port: 0,
      "socks-port": 0,
      "redir-port": 0,
      "tproxy-port": 0,
      "mixed-port": 0,
      "allow-lan": false,
      "bind-address": "*",
      mode: deps.modes.mode,
      "mode-list": deps.modes.modes,
      "log-level": reportedLevel(deps.logLevel),
      ipv6: false,
      tun: null,
    }));

  app.patch("/configs", async (c) => {
    const body = await checkBody(c, configsPatch);
    if (!body.ok) return body.response;
    if (body.value.mode) deps.modes.set(body.value.mode);
    return c.body(null, 204);
  });

  app.put("/configs", (c) => c.body(null, 204));

  app.get("/rules", (c) =>
    c.json({
      rules: deps.router.rules.map((r) => ({
        type: r.matcher instanceof LogicalMatcher ? "logical" : "default",
        payload: String(r.matcher),
        proxy: formatAction(r.action),
      })),
    }));

  app.get("/logs", (c) => {
    const q = checkQuery(c, logsQuery);
    if (!q.ok) return q.response;
    const wanted = q.value.level === "warning" ? "warn" : q.value.level ?? "info";
    const max = LOG_LEVELS.indexOf(wanted);
    return jsonStream(c.req.raw, deps.shutdown, (emit) =>
      subscribeLogs((e) => {
        if (LOG_LEVELS.indexOf(e.level) >= max) emit({ type: e.level, payload: e.message });
      }));
  });

  app.get("/dns/query", async (c) => {
    const q = checkQuery(c, dnsQuery);
    if (!q.ok) return q.response;
    const type = typeCode(q.value.type ?? "A");
    if (!type) {
      return errorResponse(c, 400, `Invalid query parameter: type: unknown query type "${q.value.type}"`);
    }
    let query: Uint8Array;
    try {
      query = buildQuery(q.value.name.replace(/\.$/, ""), type);
    } catch (e) {
      return errorResponse(c, 400, `Invalid query parameter: name: ${errorMessage(e)}`);
    }
    try {
      const response = await deps.dns.exchange(query);
      if (!response) return errorResponse(c, 500, "query dropped by a reject rule");
      return c.json(dnsResponseJson(decodeMessage(response)));
    } catch (e) {
      return errorResponse(c, 500, errorMessage(e));
    }
  });

  app.post("/cache/fakeip/flush", (c) => {
    for (const t of deps.dns.transports.values()) if (t instanceof FakeIpTransport) t.store.reset();
    return c.body(null, 204);
  });

  app.get("/providers/proxies", (c) => c.json({ providers: {} }));
  app.get("/providers/rules", (c) => c.json({ providers: [] }));
  app.get("/providers/:kind/:name", (c) => errorResponse(c, 404, "Resource not found"));
}
