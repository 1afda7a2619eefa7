/**
 * The common shape of TCP-listening inbounds (socks, http, mixed): bind `listen:listen_port`,
 * accept, run a protocol's serve function per connection. Listen fields this runtime cannot
 * honour are reported once as warnings.
 *
 * @module
 */
import type { InboundContext } from "../adapter/registry.ts";
import type { Inbound } from "../adapter/types.ts";
import type { ListenFieldsOptions } from "../config/common.ts";
import { TcpListener, type TcpListenerOptions } from "./listener.ts";
import type { Logger } from "./log.ts";

/** Listen fields parsed but not honoured by this build (warned about when set). */
const IGNORED_LISTEN_FIELDS = [
  "bind_interface",
  "routing_mark",
  "netns",
  "tcp_fast_open",
  "tcp_multi_path",
  "udp_fragment",
  "detour",
  "sniff",
  "sniff_override_destination",
  "domain_strategy",
] as const;

/** Default listen address when `listen` is omitted (all interfaces, as sing-box). */
export const DEFAULT_LISTEN = "0.0.0.0";

/** Warns once for each listen field that is set but not supported. */
export function warnIgnoredListenFields(options: ListenFieldsOptions, logger: Logger): void {
  for (const key of IGNORED_LISTEN_FIELDS) {
    if (options[key] !== undefined && options[key] !== false) {
      logger.warn(`listen field "${key}" is not supported by this build and is ignored`);
    }
  }
}

/** An inbound that serves each accepted TCP connection with `serve`. */
export class ListenerInbound implements Inbound {
  readonly type: string;
  readonly tag: string;
  readonly logger: Logger;
  #listener: TcpListener;

  constructor(
    type: string,
    ctx: InboundContext,
    options: ListenFieldsOptions,
    serve: (conn: Deno.Conn) => Promise<void>,
    tls?: TcpListenerOptions["tls"],
  ) {
    this.type = type;
    this.tag = ctx.tag;
    this.logger = ctx.logger;
    warnIgnoredListenFields(options, ctx.logger);
    this.#listener = new TcpListener(
      { hostname: options.listen ?? DEFAULT_LISTEN, port: options.listen_port ?? 0, tls },
      ctx.logger,
      serve,
    );
  }

  /** Bound address, after `start()`. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  start(): Promise<void> {
    this.#listener.start();
    const a = this.#listener.addr;
    this.logger.info(
      `tcp server started at ${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`,
    );
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}

/** Builds the user table of socks/http/mixed inbounds. */
export function userTable(
  users: readonly { username: string; password: string }[] | undefined,
): Map<string, string> {
  return new Map((users ?? []).map((u) => [u.username, u.password]));
}
