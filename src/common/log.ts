/**
 * Logging in sing-box's format on top of `@logtape/logtape`:
 * `+0000 2026-11-21 20:51:00 INFO inbound/mixed[mixed-in]: inbound connection from 127.0.0.1:5555`.
 * Levels and options follow sing-box `log` (spec sing-box.md §6): `disabled`, `level`, `output`,
 * `timestamp`.
 *
 * @module
 */
import {
  configure,
  getLogger as ltGetLogger,
  type LogLevel as LtLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";

/** sing-box log levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "panic"] as const;
/** A sing-box log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The `log` section of a config. */
export interface LogOptions {
  disabled?: boolean;
  /** @default "info" */
  level?: LogLevel;
  /** File path to append to; stderr when unset. */
  output?: string;
  /** Prefix each line with the time. @default false */
  timestamp?: boolean;
}

/** The small logging surface the rest of the code uses. */
export interface Logger {
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const TO_LT: Record<LogLevel, LtLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
  fatal: "fatal",
  panic: "fatal",
};
const LT_NAME: Record<LtLevel, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function recordText(record: LogRecord): { scope: string; msg: string } {
  return {
    scope: record.category.slice(1).join("/"),
    msg: record.message.map((m) => typeof m === "string" ? m : String(m)).join(""),
  };
}

/** Formats a record the sing-box way. Exported for tests. */
export function formatRecord(record: LogRecord, timestamp: boolean): string {
  const { scope, msg } = recordText(record);
  let prefix = "";
  if (timestamp) {
    const d = new Date(record.timestamp);
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    const zone = `${sign}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
    prefix = `${zone} ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} `;
  }
  return `${prefix}${LT_NAME[record.level]} ${scope ? scope + ": " : ""}${msg}\n`;
}

let fileHandle: Deno.FsFile | undefined;

/** A log line as the Clash API `/logs` stream shows it. */
export interface LogEntry {
  level: LogLevel;
  /** The message with its scope, `inbound/mixed[in]: inbound connection from …`. */
  message: string;
}

const FROM_LT: Record<LtLevel, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "fatal",
};

const logListeners = new Set<(entry: LogEntry) => void>();

/**
 * Calls `listener` with every line the configured logger writes (lines below the configured
 * level never reach it). Returns a function that removes the listener.
 */
export function subscribeLogs(listener: (entry: LogEntry) => void): () => void {
  logListeners.add(listener);
  return () => logListeners.delete(listener);
}

function publish(record: LogRecord): void {
  if (logListeners.size === 0) return;
  const { scope, msg } = recordText(record);
  const entry = { level: FROM_LT[record.level], message: scope ? `${scope}: ${msg}` : msg };
  for (const l of logListeners) l(entry);
}

/**
 * Configures the process-wide logger from a config's `log` section. Safe to call again on
 * reload. Throws `Deno.errors.*` if `output` cannot be opened.
 */
export async function setupLogging(options: LogOptions = {}): Promise<void> {
  await reset();
  fileHandle?.close();
  fileHandle = undefined;
  const encoder = new TextEncoder();
  let sink: Sink;
  if (options.output) {
    const file = await Deno.open(options.output, { create: true, append: true });
    fileHandle = file;
    sink = (r) => {
      file.writeSync(encoder.encode(formatRecord(r, options.timestamp ?? false)));
      publish(r);
    };
  } else {
    sink = (r) => {
      Deno.stderr.writeSync(encoder.encode(formatRecord(r, options.timestamp ?? false)));
      publish(r);
    };
  }
  await configure({
    reset: true,
    sinks: { main: sink },
    loggers: [
      {
        category: ["switchyard"],
        lowestLevel: options.disabled ? "fatal" : TO_LT[options.level ?? "info"],
        sinks: options.disabled ? [] : ["main"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
}

/**
 * Returns a logger for `scope`, printed as `scope[0]/scope[1]…`, e.g.
 * `getLogger("inbound", "mixed[mixed-in]")`.
 */
export function getLogger(...scope: string[]): Logger {
  const l = ltGetLogger(["switchyard", ...scope]);
  // LogTape reads `{name}` in a message as a placeholder; pass the text as a property so
  // messages containing braces (JSON, IPv6 zones, user input) print verbatim.
  return {
    trace: (m) => l.trace("{m}", { m }),
    debug: (m) => l.debug("{m}", { m }),
    info: (m) => l.info("{m}", { m }),
    warn: (m) => l.warn("{m}", { m }),
    error: (m) => l.error("{m}", { m }),
  };
}
