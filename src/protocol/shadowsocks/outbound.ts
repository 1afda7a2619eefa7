/**
 * The `shadowsocks` outbound (spec sing-box.md §1.2): SIP004 AEAD and SIP022 2022 methods over
 * TCP, UDP as native datagrams, and the built-in SIP003 plugins `v2ray-plugin` (WebSocket ± TLS)
 * and `obfs-local` (simple-obfs http/tls).
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type {
  Dialer,
  DialOptions,
  Outbound,
  Packet,
  PacketConn,
  Socksaddr,
  Stream,
} from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { ConfigError } from "../../common/errors.ts";
import { encodeSocksAddr } from "../../common/socks_addr.ts";
import { ProxyConnector } from "../../transport/v2ray.ts";
import {
  obfsWrap,
  parsePluginOptions,
  type PluginLayers,
  pluginLayers,
} from "../../transport/sip003/sip003.ts";
import { muxClientFor, networks, networkSchema, outboundMultiplexSchema } from "../shared_options.ts";
import { MUX_DESTINATION, type MuxClient } from "../../transport/mux/client.ts";
import { ShadowsocksAeadDecoder, ShadowsocksAeadEncoder } from "./aead_stream.ts";
import { lookupMethod, masterKey, SHADOWSOCKS_METHODS, type ShadowsocksMethod } from "./method.ts";
import { openUdp, sealUdp } from "./udp.ts";
import { Ss2022ClientDecoder, Ss2022ClientEncoder } from "./ss2022.ts";
import { openSs2022Udp, PacketIdWindow, sealSs2022Udp } from "./ss2022_udp.ts";

/** Options of a `shadowsocks` outbound. */
export const shadowsocksOutboundSchema = z.strictObject({
  type: z.literal("shadowsocks"),
  tag: z.string().optional(),
  ...serverFields,
  method: z.string().refine((m) => SHADOWSOCKS_METHODS.includes(m) || m === "chacha20-poly1305", {
    error: `unknown method; expected one of ${SHADOWSOCKS_METHODS.join(", ")}`,
  }),
  password: z.string(),
  plugin: z.enum(["obfs-local", "v2ray-plugin"], { error: "expected plugin obfs-local or v2ray-plugin" })
    .optional(),
  plugin_opts: z.string().optional(),
  network: networkSchema,
  udp_over_tcp: z.union([
    z.boolean(),
    z.strictObject({ enabled: z.boolean().optional(), version: z.number().optional() }),
  ])
    .optional().refine((v) => !v || (typeof v === "object" && !v.enabled), {
      error: "udp_over_tcp is not supported by this build",
    }),
  multiplex: outboundMultiplexSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type ShadowsocksOutboundOptions = z.output<typeof shadowsocksOutboundSchema>;

/** A Shadowsocks client. */
export class ShadowsocksOutbound implements Outbound {
  readonly type = "shadowsocks";
  readonly tag: string;
  readonly network: readonly ("tcp" | "udp")[];
  readonly dependencies: string[];
  #dialer: Dialer;
  #server: Socksaddr;
  #method: ShadowsocksMethod;
  #key: Uint8Array;
  #identity: Uint8Array[];
  #connector: ProxyConnector;
  #mux: MuxClient | null;
  #obfs: PluginLayers["obfs"];

  constructor(ctx: OutboundContext, o: ShadowsocksOutboundOptions) {
    this.tag = ctx.tag;
    this.#dialer = ctx.dialer(o);
    this.#server = { host: o.server, port: o.server_port };
    this.#method = lookupMethod(o.method);
    // SIP022 multi-user: "iPSK1:iPSK2:...:uPSK"; the last key is the user's.
    const keys = this.#method.kind === "2022" ? o.password.split(":") : [o.password];
    this.#key = masterKey(this.#method, keys[keys.length - 1], "password");
    this.#identity = keys.slice(0, -1).map((k) => masterKey(this.#method, k, "password"));
    if (this.#identity.length > 1) {
      throw new ConfigError("password", "only one identity key (iPSK:uPSK) is supported by this build");
    }
    this.network = o.plugin ? ["tcp"] : networks(o.network);
    this.dependencies = o.detour ? [o.detour] : [];
    const layers = o.plugin ? pluginLayers(o.plugin, parsePluginOptions(o.plugin_opts ?? "")) : {};
    this.#obfs = layers.obfs;
    this.#connector = new ProxyConnector(
      this.#dialer,
      this.#server,
      layers.tls,
      layers.transport,
      ctx.logger,
    );
    this.#mux = muxClientFor(o.multiplex, () => this.#dialDirect(MUX_DESTINATION));
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    if (this.#mux) return await this.#mux.dial(destination);
    return await this.#dialDirect(destination, options);
  }

  async #dialDirect(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    const raw = await this.#connector.connect(options);
    const conn = this.#obfs ? obfsWrap(raw, this.#obfs, this.#server.port) : raw;
    if (this.#method.kind === "2022") {
      const enc = new Ss2022ClientEncoder(this.#method, this.#key, this.#identity, destination);
      return new CodecStream(conn, enc, new Ss2022ClientDecoder(this.#method, this.#key, enc.salt), {
        header: new Uint8Array(0),
      });
    }
    if (this.#method.kind === "none") {
      return new CodecStream(conn, { encode: (p) => p }, {
        decode: (q) => (q.length ? q.take(q.length) : null),
      }, {
        header: encodeSocksAddr(destination),
      });
    }
    return new CodecStream(
      conn,
      new ShadowsocksAeadEncoder(this.#method, this.#key),
      new ShadowsocksAeadDecoder(this.#method, this.#key),
      { header: encodeSocksAddr(destination) },
    );
  }

  /** Closes the multiplexed connections and the shared HTTP/2 connection. */
  close(): Promise<void> {
    this.#connector.close();
    this.#mux?.close();
    return Promise.resolve();
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    if (this.#mux) return await this.#mux.listenPacket(destination);
    const inner = await this.#dialer.listenPacket(this.#server, options);
    if (this.#method.kind === "2022") {
      return new Ss2022PacketConn(inner, this.#server, this.#method, this.#key, this.#identity[0]);
    }
    return new SsPacketConn(inner, this.#server, this.#method, this.#key);
  }
}

/** Shadowsocks SIP004 UDP through a datagram socket to the server. */
class SsPacketConn implements PacketConn {
  constructor(
    readonly inner: PacketConn,
    readonly server: Socksaddr,
    readonly method: ShadowsocksMethod,
    readonly key: Uint8Array,
  ) {}

  async readPacket(): Promise<Packet | null> {
    for (;;) {
      const p = await this.inner.readPacket();
      if (!p) return null;
      try {
        return openUdp(this.method, this.key, p.data);
      } catch {
        // Forged or foreign datagram: dropped silently.
      }
    }
  }

  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    return this.inner.writePacket(sealUdp(this.method, this.key, addr, data), this.server);
  }

  close(): void {
    this.inner.close();
  }
}

/** Shadowsocks 2022 UDP client session through a datagram socket to the server. */
class Ss2022PacketConn implements PacketConn {
  #session = crypto.getRandomValues(new Uint8Array(8));
  #packetId = 0n;
  #windows = new Map<string, PacketIdWindow>();
  constructor(
    readonly inner: PacketConn,
    readonly server: Socksaddr,
    readonly method: ShadowsocksMethod,
    readonly psk: Uint8Array,
    readonly ipsk: Uint8Array | undefined,
  ) {}

  async readPacket(): Promise<Packet | null> {
    for (;;) {
      const p = await this.inner.readPacket();
      if (!p) return null;
      try {
        const now = Math.floor(Date.now() / 1000);
        const d = openSs2022Udp(this.method, [{ name: "", psk: this.psk }], p.data, { server: false, now });
        if (d.clientSessionId?.join(",") !== this.#session.join(",")) continue;
        const key = d.sessionId.join(",");
        const w = this.#windows.get(key) ?? new PacketIdWindow();
        this.#windows.set(key, w);
        if (!w.check(d.packetId)) continue;
        return { addr: d.addr, data: d.data };
      } catch {
        // Forged, stale or foreign datagram: dropped silently.
      }
    }
  }

  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const pkt = sealSs2022Udp(this.method, this.psk, {
      sessionId: this.#session,
      packetId: this.#packetId++,
      addr,
      data,
    }, {
      server: false,
      now,
      ipsk: this.ipsk,
    });
    return this.inner.writePacket(pkt, this.server);
  }

  close(): void {
    this.inner.close();
  }
}

/** Registers the `shadowsocks` outbound. */
export function registerOutbound(registry: OutboundRegistry): void {
  registry.register({
    type: "shadowsocks",
    schema: shadowsocksOutboundSchema,
    create: (ctx: OutboundContext, o: ShadowsocksOutboundOptions) => new ShadowsocksOutbound(ctx, o),
  });
}
