/**
 * The `http` outbound: an HTTP CONNECT client with Basic auth, extra headers and optional TLS
 * to the proxy (spec sing-box.md §1.2). TCP only.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
import type { Dialer, DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { outboundTlsSchema } from "../../transport/tls/config.ts";
import { dialTls, tlsClientConfig } from "../../transport/tls/client.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import { formatAddr } from "../../common/socks_addr.ts";
import { decodeResponseHead, encodeBasicAuth, encodeRequestHead, type Header } from "./codec.ts";

/** Options of an `http` outbound. */
export const httpOutboundSchema = z.strictObject({
  type: z.literal("http"),
  tag: z.string().optional(),
  ...serverFields,
  username: z.string().optional(),
  password: z.string().optional(),
  path: z.string().optional(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  tls: outboundTlsSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type HttpOutboundOptions = z.output<typeof httpOutboundSchema>;

/** The proxy answered CONNECT with a non-2xx status. */
export class HttpProxyError extends Error {
  readonly status: number;
  constructor(status: number, reason: string, server: string) {
    super(`HTTP proxy ${server} answered CONNECT with ${status} ${reason}`);
    this.name = "HttpProxyError";
    this.status = status;
  }
}

/** An HTTP CONNECT client outbound. */
export class HttpOutbound implements Outbound {
  readonly type = "http";
  readonly tag: string;
  readonly network = ["tcp"] as const;
  readonly dependencies: string[];
  #dialer: Dialer;
  #o: HttpOutboundOptions;
  #server: Socksaddr;
  #logger: Logger;

  constructor(ctx: OutboundContext, options: HttpOutboundOptions) {
    this.tag = ctx.tag;
    this.#logger = ctx.logger;
    this.#o = options;
    this.#dialer = ctx.dialer(options);
    this.#server = { host: options.server, port: options.server_port };
    this.dependencies = options.detour ? [options.detour] : [];
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    const tls = this.#o.tls;
    const conn: Stream = tls?.enabled
      ? await dialTls(
        this.#dialer,
        this.#server,
        await tlsClientConfig(tls, this.#server.host, this.#logger),
        options,
      )
      : await this.#dialer.dial(this.#server, options);
    try {
      const authority = formatAddr(destination);
      const headers: Header[] = [["Host", authority]];
      if (this.#o.username !== undefined) {
        headers.push(["Proxy-Authorization", encodeBasicAuth(this.#o.username, this.#o.password ?? "")]);
      }
      for (const [name, value] of Object.entries(this.#o.headers ?? {})) {
        for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
      }
      await writeAll(
        conn,
        encodeRequestHead({ method: "CONNECT", target: authority, version: "HTTP/1.1", headers }),
      );
      const reader = new HandshakeReader(conn);
      const head = await reader.read(decodeResponseHead, "http");
      if (head.status < 200 || head.status > 299) {
        throw new HttpProxyError(head.status, head.reason, formatAddr(this.#server));
      }
      return withPrefix(conn, reader.rest());
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  listenPacket(): Promise<PacketConn> {
    return Promise.reject(new Error(`Outbound "${this.tag}" (http) cannot carry UDP`));
  }
}
