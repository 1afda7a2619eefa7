/**
 * The `paniq` inbound: a paniq server whose proxy requests are routed by the router instead of
 * being dialed directly (paniq.md §7). The reply is written through the router's handshake
 * hooks: success with `0.0.0.0:0` (the router does not expose the upstream's local address),
 * failure status 1 when routing or dialing fails.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext } from "../../adapter/registry.ts";
import type { Inbound } from "../../adapter/types.ts";
import { port } from "../../config/common.ts";
import { PaniqServer } from "../../transport/paniq/server.ts";
import { PaniqMetrics } from "./metrics.ts";
import { loadProfile, profileFields } from "./options.ts";
import { type ResolvedServer, resolveServer } from "./profile.ts";
import { CountingStream } from "../../transport/paniq/counting_stream.ts";

/** Options of a `paniq` inbound. */
export const paniqInboundSchema = z.strictObject({
  type: z.literal("paniq"),
  tag: z.string().optional(),
  listen: z.string().optional(),
  listen_port: port.optional(),
  ...profileFields,
  /** Base64 X25519 key, used when the profile has none. */
  server_private_key: z.string().optional(),
});

/** Parsed options. */
export type PaniqInboundOptions = z.output<typeof paniqInboundSchema>;

/** Accepts paniq tunnels and routes their streams. */
export class PaniqInbound implements Inbound {
  readonly type = "paniq";
  readonly tag: string;
  readonly metrics = new PaniqMetrics("proxy");
  readonly #ctx: InboundContext;
  readonly #options: PaniqInboundOptions;
  readonly #cfg: ResolvedServer;
  #server: PaniqServer | null = null;

  constructor(ctx: InboundContext, options: PaniqInboundOptions) {
    this.tag = ctx.tag;
    this.#ctx = ctx;
    this.#options = options;
    this.#cfg = resolveServer(loadProfile(options), options.server_private_key ?? "");
  }

  /** The bound UDP address once started. */
  get addr(): Deno.NetAddr | undefined {
    return this.#server?.addr;
  }

  async start(): Promise<void> {
    const router = this.#ctx.router;
    this.#server = await PaniqServer.listen(this.#cfg, {
      hostname: this.#options.listen ?? "0.0.0.0",
      port: this.#options.listen_port ?? 0,
      metrics: this.metrics,
      log: this.#ctx.logger,
      handler: (req) =>
        // Reads are stream→upstream (`bytes_in`), writes upstream→stream (`bytes_out`), as in Go.
        router.routeConnection(new CountingStream(req.stream, this.metrics), {
          inbound: this.tag,
          inboundType: "paniq",
          network: "tcp",
          source: req.source,
          destination: req.destination,
        }, {
          onSuccess: async () => {
            await req.accept();
          },
          onFailure: async () => {
            await req.reject();
          },
        }),
    });
  }

  close(): Promise<void> {
    this.#server?.close();
    this.#server = null;
    return Promise.resolve();
  }
}
