/**
 * The `http` inbound: an HTTP proxy (CONNECT and plain forwarding) with Basic users and
 * optional TLS (spec sing-box.md §1.1).
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext } from "../../adapter/registry.ts";
import type { Inbound } from "../../adapter/types.ts";
import { listable, listenFields, userSchema } from "../../config/common.ts";
import { inboundTlsSchema } from "../../transport/tls/config.ts";
import { tlsServerConfig } from "../../transport/tls/server.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import { ListenerInbound, userTable } from "../../common/listener_inbound.ts";
import { serveHttp } from "./server.ts";
import { uotRouter } from "../uot/router.ts";

/** Options of an `http` inbound. */
export const httpInboundSchema = z.strictObject({
  type: z.literal("http"),
  tag: z.string().optional(),
  ...listenFields,
  users: listable(userSchema).optional(),
  set_system_proxy: z.boolean().refine((v) => !v, {
    error: "set_system_proxy is not supported by this build",
  })
    .optional(),
  tls: inboundTlsSchema.optional(),
});

/** Parsed options. */
export type HttpInboundOptions = z.output<typeof httpInboundSchema>;

/** An `http` inbound; TLS material is loaded at start. */
class HttpInbound implements Inbound {
  readonly type = "http";
  readonly tag: string;
  #ctx: InboundContext;
  #options: HttpInboundOptions;
  #inner: ListenerInbound | null = null;

  constructor(ctx: InboundContext, options: HttpInboundOptions) {
    this.tag = ctx.tag;
    this.#ctx = ctx;
    this.#options = options;
  }

  async start(): Promise<void> {
    const ctx = this.#ctx;
    const server = {
      tag: ctx.tag,
      type: "http",
      router: uotRouter(ctx.router, ctx.logger),
      logger: ctx.logger,
      users: userTable(this.#options.users),
    };
    const tls = this.#options.tls?.enabled ? tlsServerConfig(this.#options.tls, `${ctx.tag}.tls`) : undefined;
    this.#inner = new ListenerInbound(
      "http",
      ctx,
      this.#options,
      (conn) => serveHttp(conn, new HandshakeReader(conn), server),
      tls,
    );
    await this.#inner.start();
  }

  async close(): Promise<void> {
    await this.#inner?.close();
  }
}

/** Creates an `http` inbound. */
export function createHttpInbound(ctx: InboundContext, options: HttpInboundOptions): Inbound {
  return new HttpInbound(ctx, options);
}
