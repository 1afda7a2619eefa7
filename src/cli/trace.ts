/**
 * `switchyard trace [flags] <target>`: a datadog-traceroute compatible CLI (spec traceroute.md §2).
 * Pretty JSON to stdout; `Error: failed to run traceroute: …` plus usage to stderr with exit 1;
 * `-v` logs at trace level to stderr, otherwise nothing is logged.
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import { getLogger, setupLogging } from "../common/log.ts";
import {
  defaultParams,
  parseGoBool,
  parseGoInt,
  type TracerouteParams,
  wrapUint8,
} from "../traceroute/params.ts";
import { runTraceroute } from "../traceroute/runner.ts";
import { toPrettyJSON } from "../traceroute/result.ts";

/** Boolean flags of `trace`, which also accept `--flag=true|false` as pflag does. */
export const TRACE_BOOL_FLAGS = [
  "verbose",
  "ipv6",
  "reverse-dns",
  "source-public-ip",
  "windows-driver",
  "skip-private-hops",
];

/**
 * Rewrites pflag-style `--flag=value` booleans into commander form (`--flag` or nothing).
 * @throws {InvalidArgumentError} If the value is not a Go ParseBool value.
 */
export function normalizeBoolFlags(args: string[], flags = TRACE_BOOL_FLAGS): string[] {
  const out: string[] = [];
  for (const a of args) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(a);
    if (m && flags.includes(m[1])) {
      const b = parseGoBool(m[2]);
      if (b === null) {
        throw new InvalidArgumentError(
          `invalid argument "${m[2]}" for "--${m[1]}" flag: strconv.ParseBool: parsing "${
            m[2]
          }": invalid syntax`,
        );
      }
      if (b) out.push(`--${m[1]}`);
      continue;
    }
    out.push(a);
  }
  return out;
}

function goInt(name: string) {
  return (v: string): number => {
    const n = parseGoInt(v);
    if (n === null) {
      throw new InvalidArgumentError(
        `invalid argument "${v}" for "${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`,
      );
    }
    return n;
  };
}

interface TraceOptions {
  proto: string;
  port: number;
  tracerouteQueries: number;
  maxTtl: number;
  verbose?: boolean;
  tcpMethod: string;
  ipv6?: boolean;
  timeout: number;
  reverseDns?: boolean;
  sourcePublicIp?: boolean;
  e2eQueries: number;
  windowsDriver?: boolean;
  skipPrivateHops?: boolean;
}

/** Builds params from parsed options (max-ttl wraps like Go's uint8). */
export function paramsFromOptions(target: string, o: TraceOptions): TracerouteParams {
  const p = defaultParams(target);
  p.protocol = o.proto;
  p.port = o.port;
  p.tracerouteQueries = o.tracerouteQueries;
  p.maxTtl = wrapUint8(o.maxTtl);
  p.tcpMethod = o.tcpMethod;
  p.wantV6 = !!o.ipv6;
  p.timeoutMs = o.timeout;
  p.reverseDns = !!o.reverseDns;
  p.collectSourcePublicIP = !!o.sourcePublicIp;
  p.e2eQueries = o.e2eQueries;
  p.useWindowsDriver = !!o.windowsDriver;
  p.skipPrivateHops = !!o.skipPrivateHops;
  return p;
}

/** Registers `switchyard trace`. */
export function registerTrace(program: Command): void {
  const cmd = program.command("trace")
    .description("Run a traceroute (datadog-traceroute compatible JSON)")
    .argument("<target>", "hostname, IP, host:port or [v6]:port")
    .option("-P, --proto <proto>", "Protocol to use (udp, tcp, icmp)", "udp")
    .option("-p, --port <port>", "Destination port (UDP and TCP)", goInt("--port"), 33434)
    .option("-q, --traceroute-queries <n>", "Number of traceroute queries", goInt("--traceroute-queries"), 3)
    .option("-m, --max-ttl <n>", "Maximum TTL", goInt("--max-ttl"), 30)
    .option("-v, --verbose", "verbose")
    .option("--tcp-method <method>", "Method used to run TCP traceroute (syn, sack, prefer_sack)", "syn")
    .option("--ipv6", "IPv6")
    .option("--timeout <ms>", "Timeout (ms)", goInt("--timeout"), 3000)
    .option("--reverse-dns", "Enrich IPs with Reverse DNS names")
    .option("--source-public-ip", "Enrich with Source Public IP")
    .option("-Q, --e2e-queries <n>", "Number of e2e probes queries", goInt("--e2e-queries"), 50)
    .option("--windows-driver", "Use Windows driver for traceroute (Windows only)")
    .option("--skip-private-hops", "Skip private hops")
    .action(async (target: string, o: TraceOptions) => {
      await setupLogging(o.verbose ? { level: "trace", timestamp: true } : { disabled: true });
      const log = getLogger("traceroute");
      const params = paramsFromOptions(target, o);
      try {
        if (params.useWindowsDriver && Deno.build.os === "windows") {
          throw new Error(
            "failed to start driver: StartDriver failed to init driver: not available in this build",
          );
        }
        const results = await runTraceroute(params, { log: (level, m) => log[level](m) });
        await Deno.stdout.write(new TextEncoder().encode(toPrettyJSON(results)));
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const text = `Error: failed to run traceroute: ${msg}\n${cmd.helpInformation()}`;
        await Deno.stderr.write(new TextEncoder().encode(text));
        Deno.exitCode = 1;
      }
    });
  // pflag accepts --bool=true|false; commander does not, so rewrite those before parsing
  const parseOptions = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => {
    try {
      return parseOptions(normalizeBoolFlags(argv));
    } catch (e) {
      if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
      throw e;
    }
  };
}
