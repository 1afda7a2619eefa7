/**
 * The `shadowsocks` outbound (spec sing-box.md §1.2): SIP004 AEAD, SIP022 2022 and `none`
 * methods over TCP, UDP as native datagrams or, with `udp_over_tcp`, in a TCP tunnel (SagerNet
 * UoT v2, or v1), and the built-in SIP003 plugins `v2ray-plugin` (WebSocket ± TLS) and
 * `obfs-local` (simple-obfs http/tls).
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext, OutboundRegistry } from "../../adapter/registry.ts";
import type { DialOptions, Packet, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { dialFields, serverFields } from "../../config/common.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { ConfigError } from "../../common/errors.ts";
import { encodeSocksAddr } from "../../common/socks_addr.ts";
import {
  obfsWrap,
  parsePluginOptions,
  type PluginLayers,
  pluginLayers,
} from "../../transport/sip003/sip003.ts";
import { networks, networkSchema, outboundMultiplexSchema } from "../shared_options.ts";
import { ProxyOutbound, type ProxyProtocol } from "../proxy_outbound.ts";
import { udpOverTcpSchema, uotListenPacket, uotVersion } from "../uot/client.ts";
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
  /** Required except with method `none`. */
  password: z.string().optional(),
  plugin: z.enum(["obfs-local", "v2ray-plugin"], { error: "expected plugin obfs-local or v2ray-plugin" })
    .optional(),
  plugin_opts: z.string().optional(),
  network: networkSchema,
  udp_over_tcp: udpOverTcpSchema.optional(),
  multiplex: outboundMultiplexSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type ShadowsocksOutboundOptions = z.output<typeof shadowsocksOutboundSchema>;

/** The Shadowsocks handshake (after the SIP003 obfs layer, if any) over one server connection. */
function shadowsocksProtocol(
  method: ShadowsocksMethod,
  key: Uint8Array,
  identity: Uint8Array[],
  obfs: PluginLayers["obfs"],
  serverPort: number,
): ProxyProtocol {
  return {
    stream(raw: Stream, destination: Socksaddr): Stream {
      const conn = obfs ? obfsWrap(raw, obfs, serverPort) : raw;
      if (method.kind === "2022") {
        const enc = new Ss2022ClientEncoder(method, key, identity, destination);
        return new CodecStream(conn, enc, new Ss2022ClientDecoder(method, key, enc.salt), {
          header: new Uint8Array(0),
        });
      }
      if (method.kind === "none") {
        return new CodecStream(conn, { encode: (p) => p }, {
          decode: (q) => (q.length ? q.take(q.length) : null),
        }, { header: encodeSocksAddr(destination) });
      }
      return new CodecStream(
        conn,
        new ShadowsocksAeadEncoder(method, key),
        new ShadowsocksAeadDecoder(method, key),
        { header: encodeSocksAddr(destination) },
      );
    },
  };
}

/** A Shadowsocks client. */
export class ShadowsocksOutbound extends ProxyOutbound {
  #server: Socksaddr;
  #method: ShadowsocksMethod;
  #key: Uint8Array;
  #identity: Uint8Array[];
  #uot: number | null;

  constructor(ctx: OutboundContext, o: ShadowsocksOutboundOptions) {
    const method = lookupMethod(o.method);
    // SIP022 multi-user: "iPSK1:iPSK2:...:uPSK"; the last key is the user's.
    if (o.password === undefined && method.kind !== "none") {
      throw new ConfigError("password", "missing password");
    }
    const password = o.password ?? "";
    const keys = method.kind === "2022" ? password.split(":") : [password];
    const key = masterKey(method, keys[keys.length - 1], "password");
    const identity = keys.slice(0, -1).map((k) => masterKey(method, k, "password"));
    if (identity.length > 1) {
      throw new ConfigError("password", "only one identity key (iPSK:uPSK) is supported by this build");
    }
    const layers = o.plugin ? pluginLayers(o.plugin, parsePluginOptions(o.plugin_opts ?? "")) : {};
    const uot = uotVersion(o.udp_over_tcp);
    super("shadowsocks", ctx, o, shadowsocksProtocol(method, key, identity, layers.obfs, o.server_port), {
      tls: layers.tls,
      transport: layers.transport,
      // Plugins carry TCP only, unless UDP rides in TCP; UoT replaces multiplexing (sing-box).
      network: o.plugin && uot === null ? ["tcp"] : networks(o.network),
      noMultiplex: uot !== null,
    });
    this.#uot = uot;
    this.#server = { host: o.server, port: o.server_port };
    this.#method = method;
    this.#key = key;
    this.#identity = identity;
  }

  override async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    if (this.multiplexed) return await super.listenPacket(destination, options);
    if (this.#uot !== null) {
      return await uotListenPacket((d) => this.dialDirect(d, options), this.#uot, destination);
    }
    const inner = await this.dialer.listenPacket(this.#server, options);
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
