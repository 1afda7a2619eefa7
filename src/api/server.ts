/**
 * The Clash API server (sing-box `experimental/clashapi.Server`): listens on
 * `external_controller` once the instance has started, serves the hono app, and on close ends
 * every stream and stops listening. Without `external_controller` nothing listens, but the mode
 * list and switching still work for `clash_mode` rules.
 *
 * @module
 */
import type { Logger } from "../common/log.ts";
import { buildApp } from "./app.ts";
import type { ApiDeps } from "./deps.ts";
import { type ClashApiOptions, parseController } from "./options.ts";

/** A running (or ready) Clash API. */
export class ClashApiServer {
  readonly options: ClashApiOptions;
  #deps: Omit<ApiDeps, "shutdown">;
  #shutdown = new AbortController();
  #server?: Deno.HttpServer<Deno.NetAddr>;
  #log: Logger;

  constructor(options: ClashApiOptions, deps: Omit<ApiDeps, "shutdown">) {
    this.options = options;
    this.#deps = deps;
    this.#log = deps.logger;
  }

  /** The bound address once listening. */
  get addr(): Deno.NetAddr | undefined {
    return this.#server?.addr;
  }

  /**
   * Starts listening on `external_controller` (no-op without one).
   * @throws {Error} If the address is in use or cannot be bound
   */
  start(): Promise<void> {
    const listen = this.options.external_controller
      ? parseController(this.options.external_controller)
      : null;
    if (!listen) return Promise.resolve();
    const o = this.options;
    const app = buildApp({ ...this.#deps, shutdown: this.#shutdown.signal }, {
      secret: o.secret,
      allowOrigin: o.access_control_allow_origin,
      allowPrivateNetwork: o.access_control_allow_private_network,
      externalUi: o.external_ui || undefined,
    });
    try {
      this.#server = Deno.serve({
        hostname: listen.hostname,
        port: listen.port,
        onListen: () => {},
        onError: (e) => {
          this.#log.error(`clash api: ${(e as Error).message}`);
          return new Response(JSON.stringify({ message: "internal error" }), { status: 500 });
        },
      }, app.fetch);
    } catch (e) {
      throw new Error(`external controller listen error: ${(e as Error).message}`, { cause: e });
    }
    this.#log.info(`restful api listening at ${listen.hostname}:${this.#server.addr.port}`);
    return Promise.resolve();
  }

  /** Ends streams and stops listening. Idempotent. */
  async close(): Promise<void> {
    this.#shutdown.abort();
    const s = this.#server;
    this.#server = undefined;
    await s?.shutdown();
  }
}
