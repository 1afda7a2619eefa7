/**
 * `GET /metrics` in the Prometheus text exposition format (version 0.0.4): connection and
 * traffic figures of the router, and for every paniq inbound and outbound the daemon counters
 * of paniq.md §9 under their Go names prefixed `paniq_`, labelled with `kind` and `tag`.
 *
 * @module
 */
import type { Inbound, Outbound } from "../adapter/types.ts";
import { ENVELOPE_LOG_FIELDS, type EnvelopeCounters, PaniqMetrics } from "../protocol/paniq/metrics.ts";
import type { ConnectionTracker } from "../route/tracker.ts";

/** One metric family: name, help text, type and its samples. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels?: Record<string, string>; value: number }[];
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Renders families in the text format; families without samples are left out. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  let out = "";
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
      out += `${f.name}${labels ? `{${labels}}` : ""} ${s.value}\n`;
    }
  }
  return out;
}

/** Router figures: live connections by network, and byte totals. */
export function routerMetrics(tracker: ConnectionTracker): MetricFamily[] {
  const byNetwork = { tcp: 0, udp: 0 };
  for (const c of tracker.list()) byNetwork[c.metadata.network]++;
  const t = tracker.totals();
  return [
    {
      name: "switchyard_connections",
      help: "Live routed connections.",
      type: "gauge",
      samples: [
        { labels: { network: "tcp" }, value: byNetwork.tcp },
        { labels: { network: "udp" }, value: byNetwork.udp },
      ],
    },
    {
      name: "switchyard_upload_bytes_total",
      help: "Bytes sent from clients to outbounds, closed connections included.",
      type: "counter",
      samples: [{ value: t.upload }],
    },
    {
      name: "switchyard_download_bytes_total",
      help: "Bytes sent from outbounds to clients, closed connections included.",
      type: "counter",
      samples: [{ value: t.download }],
    },
  ];
}

/** Daemon fields of paniq.md §9 with their help text; `socks` marks socks-side-only ones. */
const DAEMON_FIELDS: { key: keyof PaniqMetrics; help: string; gauge?: boolean; socks?: boolean }[] = [
  { key: "active", help: "SOCKS sessions (client) or QUIC streams (server) in a handler.", gauge: true },
  { key: "auth_fail", help: "RFC 1929 authentication failures.", socks: true },
  { key: "hs_ok", help: "Successful proxy setups." },
  { key: "hs_fail", help: "Failed proxy setups." },
  { key: "reconnects", help: "Accepted TCP connections (client) or streams (server)." },
  { key: "bytes_in", help: "Bytes read from clients (client) or streams (server)." },
  { key: "bytes_out", help: "Bytes written to clients (client) or streams (server)." },
  { key: "proxy_decode_fail", help: "Proxy decode failures (always 0, as in Go).", socks: true },
  { key: "proxy_resp_bad", help: "Bad proxy responses (always 0, as in Go).", socks: true },
  { key: "hs_timeouts", help: "Proxy reply timeouts.", socks: true },
];

/** Envelope counters not on the Go log line but counted there too (paniq.md §9). */
const EXTRA_ENVELOPE: (keyof EnvelopeCounters)[] = [
  "signatures",
  "size_violation",
  "unexpected",
  "udp_bytes_in",
  "udp_bytes_out",
  "payload_bytes_in",
  "payload_bytes_out",
];

/** paniq figures of every inbound and outbound that carries {@linkcode PaniqMetrics}. */
export function paniqMetrics(inbounds: readonly Inbound[], outbounds: Iterable<Outbound>): MetricFamily[] {
  const sources: { labels: Record<string, string>; m: PaniqMetrics }[] = [];
  const add = (kind: string, o: { tag: string }) => {
    const m = (o as { metrics?: unknown }).metrics;
    if (m instanceof PaniqMetrics) sources.push({ labels: { kind, tag: o.tag }, m });
  };
  for (const i of inbounds) add("inbound", i);
  for (const o of outbounds) add("outbound", o);
  if (sources.length === 0) return [];
  const families: MetricFamily[] = DAEMON_FIELDS.map((f) => ({
    name: `paniq_${f.key}`,
    help: f.help,
    type: f.gauge ? "gauge" : "counter",
    samples: sources.filter((s) => !f.socks || s.m.side === "socks").map((s) => ({
      labels: s.labels,
      value: s.m[f.key] as number,
    })),
  }));
  for (const key of [...ENVELOPE_LOG_FIELDS, ...EXTRA_ENVELOPE]) {
    families.push({
      name: `paniq_${key}`,
      help: `Envelope counter ${key}.`,
      type: "counter",
      samples: sources.map((s) => ({ labels: s.labels, value: s.m.envelope[key] })),
    });
  }
  for (const q of [95, 99]) {
    families.push({
      name: `paniq_p${q}`,
      help: `Handshake latency, ${q}th percentile of the last 256 samples, seconds.`,
      type: "gauge",
      samples: sources.map((s) => ({ labels: s.labels, value: s.m.latency.quantile(q / 100) / 1000 })),
    });
  }
  return families;
}
