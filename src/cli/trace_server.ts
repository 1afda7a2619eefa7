/**
 * `switchyard trace-server --addr :3765 --log-level info`: the datadog-traceroute HTTP API
 * (spec traceroute.md §3). Runs until SIGINT/SIGTERM.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import { getLogger, type LogLevel, setupLogging } from "../common/log.ts";
import { createApp } from "../traceroute/server.ts";

const LEVELS = ["error", "warn", "info", "debug", "trace"];

/** Splits a Go listen address (`:3765`, `127.0.0.1:80`, `[::1]:80`) into hostname and port. */
export function parseListenAddr(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  if (i < 0) throw new InvalidArgumentError(`listen tcp: address ${addr}: missing port in address`);
  let host = addr.slice(0, i);
  const port = Number(addr.slice(i + 1) || "0");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`listen tcp: address ${addr}: invalid port`);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

function goLogPrefix(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}`;
}

/** Registers `switchyard trace-server`. */
export function registerTraceServer(program: Command): void {
  program.command("trace-server")
    .description("Serve traceroutes over HTTP (datadog-traceroute-server compatible)")
    .option("-a, --addr <addr>", "HTTP server address to listen on", ":3765")
    .option("-l, --log-level <level>", "Log level (error, warn, info, debug, trace)", (v: string) => {
      if (!LEVELS.includes(v)) throw new InvalidArgumentError(`invalid log level: ${v}`);
      return v;
    }, "info")
    .option("--windows-driver", "Use Windows driver for traceroute (Windows only)")
    .action(async (o: { addr: string; logLevel: string; windowsDriver?: boolean }) => {
      const { hostname, port } = parseListenAddr(o.addr);
      await setupLogging({ level: o.logLevel as LogLevel, timestamp: true });
      const log = getLogger("traceroute-server");
      const err = (s: string) => Deno.stderr.writeSync(new TextEncoder().encode(`${goLogPrefix()} ${s}\n`));
      if (o.windowsDriver && Deno.build.os === "windows") {
        throw new Error(
          "failed to start driver: StartDriver failed to init driver: not available in this build",
        );
      }
      const app = createApp({ log: (level, m) => log[level](m) });
      const ac = new AbortController();
      const stop = () => ac.abort();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      const server = Deno.serve({ hostname, port, signal: ac.signal, onListen: () => {} }, app.fetch);
      err(`Starting traceroute HTTP server on ${o.addr}`);
      err(`Log level set to: ${o.logLevel}`);
      err(`Example usage: curl http://localhost:3765/traceroute?target=google.com&protocol=tcp&port=443`);
      await server.finished;
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
    });
}
