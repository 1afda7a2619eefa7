/**
 * `switchyard paniq …`: the bridgefall-paniq daemons and profile tools (paniq.md §14).
 *
 * - `paniq socks --config paniq-socks.json --profile profile.json` — Go `paniq-socks`
 * - `paniq proxy --config paniq-proxy.json --profile profile.json` — Go `paniq-proxy`
 *   (private key from the profile, else `BF_SERVER_PRIVATE_KEY`, else `--server-private-key-file`)
 * - `paniq create-profile [--mtu 1420] [--profile-name N] [--proxy-addr H:P]` — `bf create-profile`
 * - `paniq profile-cbor [--decode] [--in F] [--out F] [--base64]` — `bf profile-cbor`
 * - `paniq keygen` — `bf keygen`
 *
 * Flags take two dashes (Go's `flag` also accepted one). In config mode only flags given
 * explicitly override the files, as in Go.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { ConfigError } from "../common/errors.ts";
import { getLogger, type LogLevel, setupLogging } from "../common/log.ts";
import { parseAddr } from "../common/socks_addr.ts";
import { SystemDialer } from "../common/dialer.ts";
import {
  durationField,
  emptyProfile,
  parseProfile,
  type Profile,
  resolveClient,
  resolveServer,
  transportConfigLine,
} from "../protocol/paniq/profile.ts";
import { parseGoDuration } from "../protocol/paniq/duration.ts";
import { PaniqMetrics } from "../protocol/paniq/metrics.ts";
import { createProfile } from "../protocol/paniq/create_profile.ts";
import { decodeProfileCbor, encodeProfileCbor } from "../protocol/paniq/profile_cbor.ts";
import { profileToCompactJson, profileToFullJson } from "../protocol/paniq/profile_json.ts";
import { decodeBase64, encodeBase64, generateKeyPair } from "../protocol/paniq/keys.ts";
import { PaniqClient } from "../transport/paniq/client.ts";
import { PaniqServer } from "../transport/paniq/server.ts";
import { SocksDaemon } from "../transport/paniq/socks_daemon.ts";
import { upstreamHandler } from "../transport/paniq/upstream.ts";

/** The daemon JSON config (`paniq-socks.json` / `paniq-proxy.json`, §4.5); durations in ms. */
export interface DaemonConfig {
  listen_addr: string;
  username: string;
  password: string;
  workers: number;
  max_connections: number;
  dial_timeout: number;
  accept_timeout: number;
  idle_timeout: number;
  metrics_interval: number;
  log_level: string;
  verbose: boolean;
}

/**
 * Parses a daemon config with Go semantics (unknown fields ignored).
 *
 * @throws {ConfigError} On a field of the wrong type
 */
export function parseDaemonConfig(json: unknown): DaemonConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ConfigError("", "config must be a JSON object");
  }
  const o = json as Record<string, unknown>;
  const get = <T>(k: string, type: string, def: T): T => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    if (typeof v !== type || (type === "number" && !Number.isInteger(v))) {
      throw new ConfigError(k, `expected ${type}`);
    }
    return v as T;
  };
  return {
    listen_addr: get("listen_addr", "string", ""),
    username: get("username", "string", ""),
    password: get("password", "string", ""),
    workers: get("workers", "number", 0),
    max_connections: get("max_connections", "number", 0),
    dial_timeout: durationField(o, "dial_timeout", "") ?? 0,
    accept_timeout: durationField(o, "accept_timeout", "") ?? 0,
    idle_timeout: durationField(o, "idle_timeout", "") ?? 0,
    metrics_interval: durationField(o, "metrics_interval", "") ?? 0,
    log_level: get("log_level", "string", ""),
    verbose: get("verbose", "boolean", false),
  };
}

async function readJson(path: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError("", `${path}: invalid JSON: ${(e as Error).message}`);
  }
}

interface DaemonFlags {
  config?: string;
  profile?: string;
  listen?: string;
  workers?: string;
  maxConns?: string;
  handshakeTimeout?: string;
  dialTimeout?: string;
  idleTimeout?: string;
  metricsInterval?: string;
  logLevel?: string;
  verbose?: boolean;
  quicMaxPacketSize?: string;
  quicKeepalive?: string;
  quicIdleTimeout?: string;
  quicMaxStreams?: string;
  obfuscation?: boolean;
  proxyAddr?: string;
  username?: string;
  password?: string;
  handshakeAttempts?: string;
  preambleDelayMs?: string;
  preambleJitterMs?: string;
  serverPrivateKeyFile?: string;
  [obf: string]: unknown;
}

const OBF_INT = ["jc", "jmin", "jmax", "s1", "s2", "s3", "s4"] as const;
const OBF_STR = ["h1", "h2", "h3", "h4", "i1", "i2", "i3", "i4", "i5"] as const;

function addDaemonFlags(cmd: Command, listenDefault: string): Command {
  cmd
    .option("--config <file>", "path to the daemon JSON config (requires --profile)")
    .option("--profile <file>", "path to the profile JSON (with --config)")
    .option("--listen <addr>", `listen address (default ${listenDefault})`)
    .option("--workers <n>", "worker count (accepted for compatibility)")
    .option("--max-conns <n>", "max concurrent connections (default 128)")
    .option("--handshake-timeout <d>", "handshake timeout (default 5s)")
    .option("--dial-timeout <d>", "upstream dial timeout (default 5s)")
    .option("--idle-timeout <d>", "relay idle timeout (default 2m)")
    .option("--metrics-interval <d>", "metrics log interval (default 10s)")
    .option("--log-level <level>", "error, warn, info or debug")
    .option("--verbose", "debug logging unless --log-level is given")
    .option("--quic-max-packet-size <n>", "envelope max packet size")
    .option("--quic-keepalive <d>", "QUIC keep-alive (default 20s)")
    .option("--quic-idle-timeout <d>", "QUIC idle timeout (default 2m)")
    .option("--quic-max-streams <n>", "QUIC max streams (default 256)")
    .option("--obfuscation", "build the obfuscation block from the --obf-* flags");
  for (const k of [...OBF_INT, ...OBF_STR]) cmd.addOption(new Option(`--obf-${k} <v>`).hideHelp());
  return cmd;
}

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name}`, `expected integer, got "${v}"`);
  return n;
}

function dur(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseGoDuration(v);
  } catch (e) {
    throw new ConfigError(`--${name}`, (e as Error).message);
  }
}

/** Loads the config and profile (config mode) or builds them from flags (CLI-only mode). */
async function loadDaemon(
  f: DaemonFlags,
  listenDefault: string,
): Promise<{ daemon: DaemonConfig; profile: Profile }> {
  let daemon = parseDaemonConfig({});
  let profile = emptyProfile();
  if (f.config) {
    if (!f.profile) throw new ConfigError("--profile", "required with --config");
    daemon = parseDaemonConfig(await readJson(f.config));
    profile = parseProfile(await readJson(f.profile));
  } else if (f.profile) {
    throw new ConfigError("--profile", "only valid together with --config");
  } else {
    // CLI-only mode: Go defaults; padding is off because the policy is never resolved (§4.4).
    daemon.listen_addr = listenDefault;
    profile.quic.max_packet_size = 1200;
    profile.transport_padding = {
      pad_min: 0,
      pad_max: 0,
      pad_burst_min: 0,
      pad_burst_max: 0,
      pad_burst_prob: 0,
    };
    profile.obfuscation.signature_validate = false;
    profile.obfuscation.require_timestamp = false;
  }
  if (f.listen !== undefined) daemon.listen_addr = f.listen;
  daemon.workers = num(f.workers, "workers") ?? daemon.workers;
  daemon.max_connections = num(f.maxConns, "max-conns") ?? daemon.max_connections;
  daemon.dial_timeout = dur(f.dialTimeout, "dial-timeout") ?? daemon.dial_timeout;
  daemon.idle_timeout = dur(f.idleTimeout, "idle-timeout") ?? daemon.idle_timeout;
  daemon.metrics_interval = dur(f.metricsInterval, "metrics-interval") ?? daemon.metrics_interval;
  if (f.logLevel !== undefined) daemon.log_level = f.logLevel;
  if (f.verbose) daemon.verbose = true;
  if (f.username !== undefined) daemon.username = f.username;
  if (f.password !== undefined) daemon.password = f.password;
  if (f.proxyAddr !== undefined) profile.proxy_addr = f.proxyAddr;
  profile.handshake_timeout = dur(f.handshakeTimeout, "handshake-timeout") ?? profile.handshake_timeout;
  profile.handshake_attempts = num(f.handshakeAttempts, "handshake-attempts") ?? profile.handshake_attempts;
  profile.preamble_delay_ms = num(f.preambleDelayMs, "preamble-delay-ms") ?? profile.preamble_delay_ms;
  profile.preamble_jitter_ms = num(f.preambleJitterMs, "preamble-jitter-ms") ?? profile.preamble_jitter_ms;
  profile.quic.max_packet_size = num(f.quicMaxPacketSize, "quic-max-packet-size") ??
    profile.quic.max_packet_size;
  profile.quic.keepalive = dur(f.quicKeepalive, "quic-keepalive") ?? profile.quic.keepalive;
  profile.quic.idle_timeout = dur(f.quicIdleTimeout, "quic-idle-timeout") ?? profile.quic.idle_timeout;
  profile.quic.max_streams = num(f.quicMaxStreams, "quic-max-streams") ?? profile.quic.max_streams;
  const obfFlags = [...OBF_INT, ...OBF_STR].filter((k) =>
    f[`obf${k[0].toUpperCase()}${k.slice(1)}`] !== undefined
  );
  if (f.obfuscation || obfFlags.length > 0) {
    // Any --obf-* flag replaces the whole J/S/H/I set; keys survive, transport_replay resets.
    const o = profile.obfuscation;
    for (const k of OBF_INT) {
      o[k] = num(f[`obf${k[0].toUpperCase()}${k.slice(1)}`] as string | undefined, `obf-${k}`) ?? 0;
    }
    for (const k of OBF_STR) o[k] = (f[`obf${k[0].toUpperCase()}${k.slice(1)}`] as string | undefined) ?? "";
    o.transport_replay = false;
  }
  if (daemon.listen_addr === "") throw new ConfigError("listen_addr", "listen address required");
  return { daemon, profile };
}

function logLevelOf(d: DaemonConfig): LogLevel {
  const l = (d.log_level || (d.verbose ? "debug" : "info")).toLowerCase();
  if (!["error", "warn", "info", "debug"].includes(l)) {
    throw new ConfigError("log_level", "log_level must be 'error', 'warn', 'info' or 'debug'");
  }
  return l as LogLevel;
}

/** Resolves when SIGINT/SIGTERM arrives. */
function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}

function startMetrics(m: PaniqMetrics, d: DaemonConfig, log: ReturnType<typeof getLogger>): number {
  const every = d.metrics_interval > 0 ? d.metrics_interval : 10_000;
  return setInterval(() => log.info(m.line()), every) as unknown as number;
}

async function runSocks(f: DaemonFlags): Promise<void> {
  const { daemon, profile } = await loadDaemon(f, "127.0.0.1:1080");
  await setupLogging({ level: logLevelOf(daemon) });
  const log = getLogger("paniq", "socks");
  if ((daemon.username === "") !== (daemon.password === "")) {
    throw new ConfigError("username", "username and password must both be set or both be empty");
  }
  const cfg = resolveClient(profile);
  for (const w of cfg.warnings) log.warn(w);
  log.info(transportConfigLine(cfg));
  const metrics = new PaniqMetrics("socks");
  const client = new PaniqClient(cfg, { metrics, log });
  const listen = parseAddr(daemon.listen_addr);
  const socks = new SocksDaemon({
    hostname: listen.host,
    port: listen.port,
    username: daemon.username,
    password: daemon.password,
    maxConnections: daemon.max_connections > 0 ? daemon.max_connections : 128,
    handshakeTimeoutMs: cfg.handshakeTimeoutMs,
    idleTimeoutMs: daemon.idle_timeout > 0 ? daemon.idle_timeout : 120_000,
    client,
    metrics,
    log,
  });
  log.info(`socks5 daemon listening addr=${socks.addr.hostname}:${socks.addr.port}`);
  const timer = startMetrics(metrics, daemon, log);
  await waitForSignal();
  clearInterval(timer);
  socks.close();
  client.close();
}

async function runProxy(f: DaemonFlags): Promise<void> {
  const { daemon, profile } = await loadDaemon(f, "127.0.0.1:9000");
  await setupLogging({ level: logLevelOf(daemon) });
  const log = getLogger("paniq", "proxy");
  let keyOverride = Deno.env.get("BF_SERVER_PRIVATE_KEY") ?? "";
  if (keyOverride === "" && f.serverPrivateKeyFile && f.config) {
    keyOverride = (await Deno.readTextFile(f.serverPrivateKeyFile)).trim();
  }
  const cfg = resolveServer(profile, keyOverride);
  for (const w of cfg.warnings) log.warn(w);
  log.info(transportConfigLine(cfg));
  const metrics = new PaniqMetrics("proxy");
  const listen = parseAddr(daemon.listen_addr);
  const server = await PaniqServer.listen(cfg, {
    hostname: listen.host,
    port: listen.port,
    metrics,
    log,
    handler: upstreamHandler({
      dialer: new SystemDialer({ connectTimeoutMs: daemon.dial_timeout > 0 ? daemon.dial_timeout : 5000 }),
      dialTimeoutMs: daemon.dial_timeout > 0 ? daemon.dial_timeout : 5000,
      idleTimeoutMs: daemon.idle_timeout > 0 ? daemon.idle_timeout : 120_000,
      metrics,
    }),
  });
  log.info(`proxy server listening addr=${server.addr.hostname}:${server.addr.port}`);
  const timer = startMetrics(metrics, daemon, log);
  await waitForSignal();
  clearInterval(timer);
  server.close();
}

async function readInput(path?: string): Promise<Uint8Array> {
  if (path) return await Deno.readFile(path);
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function writeOutput(data: Uint8Array, path?: string): Promise<void> {
  if (path) await Deno.writeFile(path, data, { mode: 0o600 });
  else {
    await Deno.stdout.write(data);
    await Deno.stdout.write(new TextEncoder().encode("\n"));
  }
}

/**
 * The subcommand's flags. `--config` is also the program's global (repeatable) flag, which
 * commander consumes first, so it is read from the merged options; the last one wins.
 */
function daemonFlags(cmd: Command): DaemonFlags {
  const o = cmd.optsWithGlobals() as DaemonFlags & { config?: string | string[] };
  const config = Array.isArray(o.config) ? o.config.at(-1) : o.config;
  return { ...o, config };
}

/** Registers `paniq` and its subcommands. */
export function registerPaniq(program: Command): void {
  const paniq = program.command("paniq").description(
    "bridgefall-paniq obfuscated QUIC tunnel (client, server, profile tools)",
  );
  addDaemonFlags(
    paniq.command("socks").description("Run the SOCKS5 client daemon (Go paniq-socks)"),
    "127.0.0.1:1080",
  )
    .option("--proxy-addr <addr>", "paniq server address")
    .option("--username <u>", "SOCKS5 username")
    .option("--password <p>", "SOCKS5 password")
    .option("--handshake-attempts <n>", "preamble attempts (default 3)")
    .option("--preamble-delay-ms <n>", "pause after each preamble packet")
    .option("--preamble-jitter-ms <n>", "random extra pause")
    .action(function (this: Command) {
      return runSocks(daemonFlags(this));
    });
  addDaemonFlags(
    paniq.command("proxy").description("Run the paniq server (Go paniq-proxy)"),
    "127.0.0.1:9000",
  )
    .option(
      "--server-private-key-file <file>",
      "base64 private key (if the profile and BF_SERVER_PRIVATE_KEY have none)",
    )
    .action(function (this: Command) {
      return runProxy(daemonFlags(this));
    });
  paniq.command("create-profile").description("Generate a randomized profile (bf create-profile)")
    .option("--mtu <n>", "path MTU budget for max_packet_size", "1420")
    .option("--profile-name <name>", "profile name", "")
    .option("--proxy-addr <addr>", "proxy server address (host:port)", "")
    .action(async (o: { mtu: string; profileName: string; proxyAddr: string }) => {
      const p = createProfile({ mtu: Number(o.mtu), name: o.profileName, proxyAddr: o.proxyAddr });
      if (!o.proxyAddr) {
        console.error("warning: proxy_addr is empty; set --proxy-addr to generate a usable profile");
      }
      await writeOutput(new TextEncoder().encode(profileToFullJson(p)));
    });
  paniq.command("profile-cbor").description("Encode JSON → CBOR or decode CBOR → JSON (bf profile-cbor)")
    .option("--decode", "decode CBOR into JSON")
    .option("--in <file>", "input file (defaults to stdin)")
    .option("--out <file>", "output file (defaults to stdout)")
    .option("--base64", "read/write base64-wrapped CBOR")
    .action(async (o: { decode?: boolean; in?: string; out?: string; base64?: boolean }) => {
      const input = await readInput(o.in);
      if (o.decode) {
        let bytes = input;
        if (o.base64) {
          const text = new TextDecoder().decode(input).replace(/[ \n\r\t]/g, "");
          if (text === "") throw new ConfigError("", "empty base64 input");
          bytes = decodeBase64(text);
        }
        await writeOutput(new TextEncoder().encode(profileToCompactJson(decodeProfileCbor(bytes))), o.out);
        return;
      }
      const cbor = encodeProfileCbor(parseProfile(JSON.parse(new TextDecoder().decode(input))));
      await writeOutput(o.base64 ? new TextEncoder().encode(encodeBase64(cbor)) : cbor, o.out);
    });
  paniq.command("keygen").description("Generate a server key pair (bf keygen)").action(() => {
    const k = generateKeyPair();
    console.log(`server_private_key=${k.privateKey}`);
    console.log(`server_public_key=${k.publicKey}`);
  });
}
