/**
 * `/connections`, `/traffic` and `/memory` (spec sing-box.md §5.1): snapshots of the live
 * connections in sing-box's JSON shape, closing them, and per-second traffic and memory streams.
 *
 * @module
 */
import type { Hono } from "hono";
import { z } from "zod";
import { isIP } from "../../common/socks_addr.ts";
import type { ConnectionTracker, TrackedConnection } from "../../route/tracker.ts";
import type { ApiDeps } from "../deps.ts";
import { jsonStream, tickerSource, wantsWebSocket } from "../stream.ts";
import { checkQuery, errorResponse, intParam } from "../validate.ts";

/** Memory the process holds, bytes (the closest match to Go's in-use heap and stacks). */
export function memoryInUse(): number {
  return Deno.memoryUsage().rss;
}

/** One connection as sing-box's tracker marshals it. */
export function connectionInfo(c: TrackedConnection): Record<string, unknown> {
  const m = c.metadata;
  const dst = m.destination.host;
  return {
    id: String(c.id),
    metadata: {
      network: m.network,
      type: m.inbound ? `${m.inboundType}/${m.inbound}` : m.inboundType,
      sourceIP: m.source.host,
      destinationIP: isIP(dst) ? dst : "",
      sourcePort: String(m.source.port),
      destinationPort: String(m.destination.port),
      host: m.domain ?? (isIP(dst) ? "" : dst),
      dnsMode: "normal",
      processPath: "",
    },
    upload: c.counters.upload,
    download: c.counters.download,
    start: new Date(c.start).toISOString(),
    chains: c.chains,
    rule: c.rule,
    rulePayload: "",
  };
}

/** `{downloadTotal, uploadTotal, connections[], memory}`. */
export function snapshot(tracker: ConnectionTracker): Record<string, unknown> {
  const t = tracker.totals();
  return {
    downloadTotal: t.download,
    uploadTotal: t.upload,
    connections: tracker.list().map(connectionInfo),
    memory: memoryInUse(),
  };
}

const intervalQuery = z.object({ interval: intParam(1, 3_600_000).optional() });

/** Registers `/connections…`, `/traffic` and `/memory`. */
export function registerConnectionRoutes(app: Hono, deps: ApiDeps): void {
  const tracker = deps.router.tracker;

  app.get("/connections", (c) => {
    if (!wantsWebSocket(c.req.raw)) return c.json(snapshot(tracker));
    const q = checkQuery(c, intervalQuery);
    if (!q.ok) return q.response;
    return jsonStream(
      c.req.raw,
      deps.shutdown,
      tickerSource(q.value.interval ?? 1000, () => snapshot(tracker), true),
    );
  });

  app.delete("/connections", (c) => {
    tracker.closeAll();
    return c.body(null, 204);
  });

  app.delete("/connections/:id", (c) => {
    const id = c.req.param("id");
    if (!/^\d{1,10}$/.test(id)) {
      return errorResponse(c, 400, `Invalid connection id "${id}": expected a decimal id`);
    }
    tracker.close(Number(id));
    return c.body(null, 204);
  });

  app.get("/traffic", (c) =>
    jsonStream(c.req.raw, deps.shutdown, (emit) => {
      let last = tracker.totals();
      return tickerSource(1000, () => {
        const now = tracker.totals();
        const delta = { up: now.upload - last.upload, down: now.download - last.download };
        last = now;
        return delta;
      })(emit);
    }));

  app.get("/memory", (c) => {
    let first = true;
    return jsonStream(
      c.req.raw,
      deps.shutdown,
      tickerSource(1000, () => {
        // Clients chart from zero: the first sample is 0, as in sing-box.
        const inuse = first ? 0 : memoryInUse();
        first = false;
        return { inuse, oslimit: 0 };
      }),
    );
  });
}
