/**
 * The `shadowsocks` inbound (spec sing-box.md §1.1): SIP004 AEAD, SIP022 2022 (single and
 * multi-user) and `none` methods over TCP and UDP on one port, with a salt replay filter; a
 * 2022 AES relay with `destinations`; UDP-over-TCP and sing-mux tunnels inside. Forged,
 * truncated or replayed handshakes are drained silently (never answered, never closed early).
 * `managed` (ssm-api) is refused: this build has no ssm-api service.
 *
 * @module
 */
import { z } from "zod";
import type { InboundContext, InboundRegistry } from "../../adapter/registry.ts";
import type { Inbound, Metadata, Packet, Socksaddr, Stream } from "../../adapter/types.ts";
import { listenFields, serverFields } from "../../config/common.ts";
import { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream, type StreamDecoder } from "../../common/codec_stream.ts";
import { drainSilently } from "../../common/drain.ts";
import { ConfigError, errorMessage, ProtocolError } from "../../common/errors.ts";
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import { DEFAULT_LISTEN, ListenerInbound } from "../../common/listener_inbound.ts";
import { ReplayFilter } from "../../common/replay_filter.ts";
import { decodeSocksAddr } from "../../common/socks_addr.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../proxy_inbound.ts";
import { inboundMultiplexSchema, networkSchema } from "../shared_options.ts";
import { withPrefix } from "../../common/prefixed_stream.ts";
import { muxRouter } from "../../transport/mux/router.ts";
import { uotRouter } from "../uot/router.ts";
import { ShadowsocksAeadDecoder, ShadowsocksAeadEncoder } from "./aead_stream.ts";
import { lookupMethod, masterKey, SHADOWSOCKS_METHODS, type ShadowsocksMethod } from "./method.ts";
import { openUdp, sealUdp } from "./udp.ts";
import { openSs2022Udp, PacketIdWindow, sealSs2022Udp } from "./ss2022_udp.ts";
import { Ss2022ServerDecoder, Ss2022ServerEncoder, type Ss2022User } from "./ss2022.ts";
import { relayHeaderLength, Ss2022Relay } from "./relay.ts";
import { ServerUdpSession } from "../../common/server_udp_session.ts";

/** Options of a `shadowsocks` inbound. */
export const shadowsocksInboundSchema = z.strictObject({
  type: z.literal("shadowsocks"),
  tag: z.string().optional(),
  ...listenFields,
  network: networkSchema,
  method: z.string().refine((m) => SHADOWSOCKS_METHODS.includes(m) || m === "chacha20-poly1305", {
    error: `unknown method; expected one of ${SHADOWSOCKS_METHODS.join(", ")}`,
  }),
  password: z.string().optional(),
  users: z.array(z.strictObject({ name: z.string().optional(), password: z.string() })).optional(),
  destinations: z.array(z.strictObject({
    name: z.string().optional(),
    password: z.string(),
    ...serverFields,
  })).optional(),
  managed: z.boolean().optional(),
  multiplex: inboundMultiplexSchema.optional(),
});

/** Parsed options. */
export type ShadowsocksInboundOptions = z.output<typeof shadowsocksInboundSchema>;

/** Salts are remembered this long (twice the SIP022 time window). */
const SALT_WINDOW_MS = 60_000;

/**
 * Reads the salt and the first chunks until the target address is complete.
 *
 * @throws {ProtocolError} On forged or malformed input.
 */
export async function readShadowsocksRequest(
  conn: Stream,
  decoder: StreamDecoder,
  q: ByteQueue,
): Promise<{ destination: Socksaddr; rest: Uint8Array }> {
  let plain = new Uint8Array(0);
  for (;;) {
    const chunk = decoder.decode(q);
    if (chunk) {
      const all = new Uint8Array(plain.length + chunk.length);
      all.set(plain);
      all.set(chunk, plain.length);
      plain = all;
      const a = decodeSocksAddr(plain, 0, "shadowsocks");
      if (a) return { destination: a.value, rest: plain.slice(a.length) };
      if (plain.length > 1024) throw new ProtocolError("shadowsocks", 0, "address too long");
      continue;
    }
    const n = await conn.read(q.reserve(64 * 1024));
    if (n === null) throw new ProtocolError("shadowsocks", q.length, "connection closed during handshake");
    q.commit(n);
  }
}

/** The Shadowsocks inbound: TCP listener plus UDP socket on the same port. */
export class ShadowsocksInbound implements Inbound {
  readonly type = "shadowsocks";
  readonly tag: string;
  #ctx: InboundContext;
  #o: ShadowsocksInboundOptions;
  #method: ShadowsocksMethod;
  #key: Uint8Array;
  #replay = new ReplayFilter(SALT_WINDOW_MS, Date.now());
  #tcp: ListenerInbound | null = null;
  #udp: Deno.DatagramConn | null = null;
  #sessions = new Map<string, ServerUdpSession>();
  #ss2022: { users: Ss2022User[]; ipsk: Uint8Array | null } | null = null;
  #windows = new Map<string, PacketIdWindow>();
  #relay: Ss2022Relay | null = null;
  #destinations: { name: string; server: Socksaddr }[] = [];

  constructor(ctx: InboundContext, o: ShadowsocksInboundOptions) {
    this.tag = ctx.tag;
    this.#ctx = { ...ctx, router: muxRouter(uotRouter(ctx.router, ctx.logger), o.multiplex, ctx.logger) };
    this.#o = o;
    this.#method = lookupMethod(o.method);
    if (o.managed) {
      throw new ConfigError("managed", "managed servers (ssm-api) are not supported by this build");
    }
    if (o.users?.length && this.#method.kind !== "2022") {
      throw new ConfigError("users", "multi-user needs a 2022 method");
    }
    if (o.users?.length && o.destinations?.length) {
      throw new ConfigError("destinations", "users and destinations must not be combined");
    }
    if (o.password === undefined && this.#method.kind !== "none") {
      throw new ConfigError("password", "missing password");
    }
    this.#key = masterKey(this.#method, o.password ?? "");
    if (o.destinations?.length) {
      if (this.#method.kind !== "2022" || !this.#method.aead.startsWith("aes-")) {
        throw new ConfigError("destinations", "a relay needs a 2022-blake3-aes-* method");
      }
      const keys = o.destinations.map((d, i) =>
        masterKey(this.#method, d.password, `destinations[${i}].password`)
      );
      this.#relay = new Ss2022Relay(this.#method, this.#key, keys);
      this.#destinations = o.destinations.map((d, i) => ({
        name: d.name || String(i),
        server: { host: d.server, port: d.server_port },
      }));
    } else if (this.#method.kind === "2022") {
      const users = o.users?.length
        ? o.users.map((u, i) => ({
          name: u.name ?? "",
          psk: masterKey(this.#method, u.password, `users[${i}].password`),
        }))
        : [{ name: "", psk: this.#key }];
      this.#ss2022 = { users, ipsk: o.users?.length ? this.#key : null };
    }
    if (o.network !== "udp") {
      this.#tcp = new ListenerInbound("shadowsocks", ctx, o, (conn) => this.#serve(conn));
    }
  }

  /** Bound TCP address (after start). */
  get addr(): Deno.NetAddr | undefined {
    return this.#tcp?.addr ?? (this.#udp?.addr as Deno.NetAddr | undefined);
  }

  async #serve2022(conn: Deno.Conn, cfg: { users: Ss2022User[]; ipsk: Uint8Array | null }): Promise<void> {
    const src = conn.remoteAddr as Deno.NetAddr;
    const q = new ByteQueue(256 * 1024);
    const decoder = new Ss2022ServerDecoder(this.#method, cfg.users, cfg.ipsk);
    let first: Uint8Array;
    try {
      first = await withDeadline(conn, HANDSHAKE_TIMEOUT_MS, async () => {
        for (;;) {
          const p = decoder.decode(q);
          if (decoder.destination) return (p ?? new Uint8Array(0)).slice();
          const n = await conn.read(q.reserve(64 * 1024));
          if (n === null) {
            throw new ProtocolError("shadowsocks-2022", q.length, "connection closed during handshake");
          }
          q.commit(n);
        }
      });
      if (!this.#replay.check(decoder.salt!, Date.now())) {
        throw new ProtocolError("shadowsocks-2022", 0, "replayed salt");
      }
    } catch (e) {
      this.#ctx.logger.debug(`shadowsocks handshake from ${src.hostname}: ${errorMessage(e)}`);
      await drainSilently(conn);
      return;
    }
    const stream = new CodecStream(
      conn,
      new Ss2022ServerEncoder(this.#method, decoder.user!.psk, decoder.salt!),
      decoder,
      {
        queue: q,
        pending: first,
      },
    );
    await this.#ctx.router.routeConnection(stream, {
      inbound: this.tag,
      inboundType: "shadowsocks",
      network: "tcp",
      source: { host: src.hostname, port: src.port },
      destination: decoder.destination!,
      user: decoder.user!.name || undefined,
    });
  }

  /** Relay: peel the identity header and forward the rest, still sealed, to the destination. */
  async #serveRelay(conn: Deno.Conn, relay: Ss2022Relay): Promise<void> {
    const src = conn.remoteAddr as Deno.NetAddr;
    const need = relayHeaderLength(this.#method);
    const reader = new HandshakeReader(conn, 64 * 1024);
    let opened;
    try {
      opened = await withDeadline(conn, HANDSHAKE_TIMEOUT_MS, async () => {
        const head = await reader.peek(need);
        if (head.length < need) {
          throw new ProtocolError("shadowsocks-relay", head.length, "connection closed during handshake");
        }
        return relay.openTcp(reader.rest());
      });
    } catch (e) {
      this.#ctx.logger.debug(`shadowsocks relay handshake from ${src.hostname}: ${errorMessage(e)}`);
      await drainSilently(conn);
      return;
    }
    const d = this.#destinations[opened.index];
    await this.#ctx.router.routeConnection(withPrefix(conn, opened.forward), {
      inbound: this.tag,
      inboundType: "shadowsocks",
      network: "tcp",
      source: { host: src.hostname, port: src.port },
      destination: d.server,
      user: d.name,
    });
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    if (this.#relay) return await this.#serveRelay(conn, this.#relay);
    if (this.#ss2022) return await this.#serve2022(conn, this.#ss2022);
    const src = conn.remoteAddr as Deno.NetAddr;
    const q = new ByteQueue(256 * 1024);
    const plain = this.#method.kind === "none";
    const decoder: StreamDecoder = plain
      ? { decode: (b) => (b.length ? b.take(b.length) : null) }
      : new ShadowsocksAeadDecoder(this.#method, this.#key);
    let req;
    try {
      req = await withDeadline(conn, HANDSHAKE_TIMEOUT_MS, () => readShadowsocksRequest(conn, decoder, q));
      const salt = decoder instanceof ShadowsocksAeadDecoder ? decoder.salt : null;
      if (salt && !this.#replay.check(salt, Date.now())) {
        throw new ProtocolError("shadowsocks", 0, "replayed salt");
      }
    } catch (e) {
      this.#ctx.logger.debug(`shadowsocks handshake from ${src.hostname}: ${errorMessage(e)}`);
      await drainSilently(conn);
      return;
    }
    const encoder = plain
      ? { encode: (p: Uint8Array) => p }
      : new ShadowsocksAeadEncoder(this.#method, this.#key);
    const stream = new CodecStream(conn, encoder, decoder, { queue: q, pending: req.rest });
    await this.#ctx.router.routeConnection(stream, {
      inbound: this.tag,
      inboundType: "shadowsocks",
      network: "tcp",
      source: { host: src.hostname, port: src.port },
      destination: req.destination,
    });
  }

  async start(): Promise<void> {
    if (this.#tcp) await this.#tcp.start();
    if (this.#o.network !== "tcp") {
      const hostname = this.#o.listen ?? DEFAULT_LISTEN;
      const port = this.#tcp?.addr.port ?? this.#o.listen_port ?? 0;
      this.#udp = Deno.listenDatagram({ transport: "udp", hostname, port });
      this.#serveUdp(this.#udp);
      this.#ctx.logger.info(`udp server started at ${hostname}:${(this.#udp.addr as Deno.NetAddr).port}`);
    }
  }

  /** Opens a datagram; returns the session key, packet, and how to seal replies. Throws if forged. */
  #openUdp(
    data: Uint8Array,
  ): { key: string; packet: Packet; seal: () => (d: Uint8Array, a: Socksaddr) => Uint8Array; user?: string } {
    if (this.#relay) {
      // Relay: the rewritten datagram goes to the destination; its replies come back as they are.
      const r = this.#relay.openUdp(data);
      const d = this.#destinations[r.index];
      const packet = { data: r.forward, addr: d.server };
      return { key: `relay:${r.session}`, packet, seal: () => (reply) => reply, user: d.name };
    }
    const cfg = this.#ss2022;
    if (!cfg) {
      const packet = openUdp(this.#method, this.#key, data);
      return { key: "", packet, seal: () => (d, a) => sealUdp(this.#method, this.#key, a, d) };
    }
    const now = Math.floor(Date.now() / 1000);
    const p = openSs2022Udp(this.#method, cfg.users, data, { server: true, now, ipsk: cfg.ipsk });
    const key = p.sessionId.join(",");
    const window = this.#windows.get(key) ?? new PacketIdWindow();
    if (!window.check(p.packetId)) throw new ProtocolError("shadowsocks-2022", 8, "replayed packet");
    this.#windows.set(key, window);
    const psk = p.user!.psk;
    return {
      key,
      packet: { addr: p.addr, data: p.data },
      user: p.user!.name || undefined,
      seal: () => {
        const serverSession = crypto.getRandomValues(new Uint8Array(8));
        let packetId = 0n;
        return (d, a) =>
          sealSs2022Udp(this.#method, psk, {
            sessionId: serverSession,
            packetId: packetId++,
            clientSessionId: p.sessionId,
            addr: a,
            data: d,
          }, { server: true, now: Math.floor(Date.now() / 1000) });
      },
    };
  }

  async #serveUdp(socket: Deno.DatagramConn): Promise<void> {
    for (;;) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await socket.receive();
      } catch {
        return;
      }
      let opened;
      try {
        opened = this.#openUdp(data);
      } catch {
        continue; // forged or replayed: dropped without a reply
      }
      const client = from as Deno.NetAddr;
      // SIP004 sessions are keyed by client address, SIP022 ones by session ID.
      const key = opened.key || `${client.hostname}:${client.port}`;
      let s = this.#sessions.get(key);
      if (!s || s.closed) {
        s = new ServerUdpSession(socket, client, opened.seal(), () => {
          this.#sessions.delete(key);
          this.#windows.delete(key);
        });
        this.#sessions.set(key, s);
        const metadata: Metadata = {
          inbound: this.tag,
          inboundType: "shadowsocks",
          network: "udp",
          source: { host: client.hostname, port: client.port },
          destination: opened.packet.addr,
          user: opened.user,
        };
        const session = s;
        this.#ctx.router.routePacketConnection(session, metadata).finally(() => session.close());
      }
      s.client = client;
      s.push(opened.packet);
    }
  }

  async close(): Promise<void> {
    try {
      this.#udp?.close();
    } catch { /* closed */ }
    for (const s of this.#sessions.values()) s.close();
    if (this.#tcp) await this.#tcp.close();
  }
}

/** Registers the `shadowsocks` inbound. */
export function registerInbound(r: InboundRegistry): void {
  r.register({
    type: "shadowsocks",
    schema: shadowsocksInboundSchema,
    create: (ctx: InboundContext, o: ShadowsocksInboundOptions) => new ShadowsocksInbound(ctx, o),
  });
}
