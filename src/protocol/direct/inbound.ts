/**
 * The `direct` inbound: a TCP and/or UDP port forward to `override_address:override_port`
 * (spec sing-box.md §1.1). UDP is tracked per client source address; a session ends after
 * `udp_timeout` without traffic.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext } from "../../adapter/registry.ts";
import type { Inbound, Socksaddr } from "../../adapter/types.ts";
import { listenFields, port } from "../../config/common.ts";
import { TcpListener } from "../../common/listener.ts";
import { DEFAULT_LISTEN, warnIgnoredListenFields } from "../../common/listener_inbound.ts";
import { errorMessage } from "../../common/errors.ts";
import { ServerUdpSession } from "../../common/server_udp_session.ts";

/** Options of a `direct` inbound. */
export const directInboundSchema = z.strictObject({
  type: z.literal("direct"),
  tag: z.string().optional(),
  ...listenFields,
  network: z.enum(["tcp", "udp"]).optional(),
  override_address: z.string().optional(),
  override_port: port.optional(),
});

/** Parsed options. */
export type DirectInboundOptions = z.output<typeof directInboundSchema>;

/** A TCP/UDP port-forwarding inbound. */
export class DirectInbound implements Inbound {
  readonly type = "direct";
  readonly tag: string;
  #ctx: InboundContext;
  #o: DirectInboundOptions;
  #tcp: TcpListener | null = null;
  #udp: Deno.DatagramConn | null = null;
  #udpLoop: Promise<void> | null = null;
  #sessions = new Map<string, ServerUdpSession>();

  constructor(ctx: InboundContext, options: DirectInboundOptions) {
    this.tag = ctx.tag;
    this.#ctx = ctx;
    this.#o = options;
    warnIgnoredListenFields(options, ctx.logger);
  }

  #destination(local: Deno.NetAddr): Socksaddr {
    return { host: this.#o.override_address ?? local.hostname, port: this.#o.override_port ?? local.port };
  }

  /** Bound TCP address (when TCP is enabled). */
  get tcpAddr(): Deno.NetAddr | undefined {
    return this.#tcp?.addr;
  }

  /** Bound UDP address (when UDP is enabled). */
  get udpAddr(): Deno.NetAddr | undefined {
    return this.#udp?.addr as Deno.NetAddr | undefined;
  }

  start(): Promise<void> {
    const hostname = this.#o.listen ?? DEFAULT_LISTEN;
    const port = this.#o.listen_port ?? 0;
    const net = this.#o.network;
    if (net !== "udp") {
      this.#tcp = new TcpListener({ hostname, port }, this.#ctx.logger, (conn) => {
        const src = conn.remoteAddr as Deno.NetAddr;
        return this.#ctx.router.routeConnection(conn, {
          inbound: this.tag,
          inboundType: "direct",
          network: "tcp",
          source: { host: src.hostname, port: src.port },
          destination: this.#destination(conn.localAddr as Deno.NetAddr),
        });
      });
      this.#tcp.start();
      this.#ctx.logger.info(`tcp server started at ${hostname}:${this.#tcp.addr.port}`);
    }
    if (net !== "tcp") {
      this.#udp = Deno.listenDatagram({ transport: "udp", hostname, port: this.#tcp?.addr.port ?? port });
      this.#udpLoop = this.#serveUdp(this.#udp);
      this.#ctx.logger.info(`udp server started at ${hostname}:${(this.#udp.addr as Deno.NetAddr).port}`);
    }
    return Promise.resolve();
  }

  async #serveUdp(socket: Deno.DatagramConn): Promise<void> {
    const destination = this.#destination(socket.addr as Deno.NetAddr);
    for (;;) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch {
        return;
      }
      const src = from as Deno.NetAddr;
      const key = `${src.hostname}:${src.port}`;
      let session = this.#sessions.get(key);
      if (!session || session.closed) {
        const s = new ServerUdpSession(socket, src, (d) => d, () => this.#sessions.delete(key));
        session = s;
        this.#sessions.set(key, s);
        this.#ctx.router.routePacketConnection(s, {
          inbound: this.tag,
          inboundType: "direct",
          network: "udp",
          source: { host: src.hostname, port: src.port },
          destination,
        }, { onFailure: () => Promise.resolve(s.close()) }).catch((e) =>
          this.#ctx.logger.error(`udp session ${key}: ${errorMessage(e)}`)
        ).finally(() => s.close());
      }
      session.push({ data, addr: destination });
    }
  }

  async close(): Promise<void> {
    await this.#tcp?.close();
    try {
      this.#udp?.close();
    } catch { /* closed */ }
    await this.#udpLoop;
    for (const s of [...this.#sessions.values()]) s.close();
  }
}
