/**
 * The `socks` outbound: SOCKS5 (with RFC 1929 auth and UDP ASSOCIATE), SOCKS4 and SOCKS4a
 * client (spec sing-box.md §1.2); `udp_over_tcp` carries UDP in a CONNECT tunnel instead. The server is reached through the dial fields' dialer, so
 * `detour` chains work.
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
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
import { systemResolve } from "../../common/dialer.ts";
import { ProtocolError } from "../../common/errors.ts";
import { HandshakeReader } from "../../common/handshake_reader.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import { formatAddr, isIP } from "../../common/socks_addr.ts";
import { udpOverTcpSchema, uotListenPacket, uotVersion } from "../uot/client.ts";
import * as s4 from "./socks4.ts";
import * as s5 from "./socks5.ts";

/** Options of a `socks` outbound. */
export const socksOutboundSchema = z.strictObject({
  type: z.literal("socks"),
  tag: z.string().optional(),
  ...serverFields,
  version: z.enum(["4", "4a", "5"]).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  network: z.enum(["tcp", "udp"]).optional(),
  udp_over_tcp: udpOverTcpSchema.optional(),
  ...dialFields,
});

/** Parsed options. */
export type SocksOutboundOptions = z.output<typeof socksOutboundSchema>;

const REPLY_TEXT: Record<number, string> = {
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

/** Error reply from the upstream SOCKS server. */
export class SocksReplyError extends Error {
  readonly code: number;
  constructor(code: number, server: string) {
    super(`SOCKS server ${server} replied: ${REPLY_TEXT[code] ?? `code ${code}`}`);
    this.name = "SocksReplyError";
    this.code = code;
  }
}

/** A SOCKS client outbound. */
export class SocksOutbound implements Outbound {
  readonly type = "socks";
  readonly tag: string;
  readonly network: readonly ("tcp" | "udp")[];
  readonly dependencies: string[];
  #dialer: Dialer;
  #o: SocksOutboundOptions;
  #server: Socksaddr;
  #uot: number | null;

  constructor(ctx: OutboundContext, options: SocksOutboundOptions) {
    this.tag = ctx.tag;
    this.#o = options;
    this.#dialer = ctx.dialer(options);
    this.#server = { host: options.server, port: options.server_port };
    const v5 = (options.version ?? "5") === "5";
    this.network = options.network ? [options.network] : v5 ? ["tcp", "udp"] : ["tcp"];
    this.dependencies = options.detour ? [options.detour] : [];
    this.#uot = uotVersion(options.udp_over_tcp);
    // UDP over TCP also works through SOCKS4 servers (it is a CONNECT to the magic host).
    if (this.#uot !== null && !options.network) this.network = ["tcp", "udp"];
  }

  async #handshake5(
    conn: Stream,
    command: number,
    destination: Socksaddr,
  ): Promise<{ reply: s5.Message; rest: Uint8Array }> {
    const reader = new HandshakeReader(conn, 1024);
    const auth = this.#o.username !== undefined;
    await writeAll(
      conn,
      s5.encodeGreeting(auth ? [s5.METHOD_NO_AUTH, s5.METHOD_USERPASS] : [s5.METHOD_NO_AUTH]),
    );
    const method = await reader.read(s5.decodeMethodSelection, "socks5");
    if (method === s5.METHOD_USERPASS) {
      if (!auth) throw new ProtocolError("socks5", 1, "server requires username/password; none configured");
      await writeAll(conn, s5.encodeUserPassRequest(this.#o.username!, this.#o.password ?? ""));
      if (!await reader.read(s5.decodeUserPassReply, "socks5-auth")) {
        throw new Error(`SOCKS server ${formatAddr(this.#server)} rejected the username/password`);
      }
    } else if (method !== s5.METHOD_NO_AUTH) {
      throw new ProtocolError("socks5", 1, `server selected unsupported method 0x${method.toString(16)}`);
    }
    await writeAll(conn, s5.encodeRequest(command, destination));
    const reply = await reader.read(s5.decodeReply, "socks5");
    if (reply.code !== s5.REP_SUCCEEDED) throw new SocksReplyError(reply.code, formatAddr(this.#server));
    return { reply, rest: reader.rest() };
  }

  async #handshake4(conn: Stream, destination: Socksaddr): Promise<Uint8Array> {
    let dest = destination;
    if (!isIP(dest.host) && this.#o.version === "4") {
      // SOCKS4 carries only IPv4: resolve locally as sing-box does.
      const v4 = (await systemResolve(dest.host)).find((a) => a.family === 4);
      if (!v4) throw new Error(`Cannot use SOCKS4 for "${dest.host}": no IPv4 address`);
      dest = { host: v4.address, port: dest.port };
    }
    await writeAll(conn, s4.encodeSocks4Request(s4.CD_CONNECT, dest, this.#o.username ?? ""));
    const reader = new HandshakeReader(conn, 64);
    const cd = await reader.read(s4.decodeSocks4Reply, "socks4");
    if (cd !== s4.CD_GRANTED) {
      throw new Error(`SOCKS4 server ${formatAddr(this.#server)} rejected the request (${cd})`);
    }
    return reader.rest();
  }

  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    const conn = await this.#dialer.dial(this.#server, options);
    try {
      if ((this.#o.version ?? "5") === "5") {
        const { rest } = await this.#handshake5(conn, s5.CMD_CONNECT, destination);
        return withPrefix(conn, rest);
      }
      return withPrefix(conn, await this.#handshake4(conn, destination));
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  async listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn> {
    if (this.#uot !== null) {
      return await uotListenPacket((d) => this.dial(d, options), this.#uot, destination);
    }
    if ((this.#o.version ?? "5") !== "5") throw new Error(`SOCKS${this.#o.version} has no UDP`);
    const control = await this.#dialer.dial(this.#server, options);
    try {
      const { reply } = await this.#handshake5(control, s5.CMD_UDP_ASSOCIATE, { host: "0.0.0.0", port: 0 });
      let relayAddr = reply.address;
      if (relayAddr.host === "0.0.0.0" || relayAddr.host === "::") {
        relayAddr = { ...relayAddr, host: this.#server.host };
      }
      const packets = await this.#dialer.listenPacket(relayAddr, options);
      return new SocksPacketConn(control, packets, relayAddr);
    } catch (e) {
      control.close();
      throw e;
    }
  }
}

/** UDP through a SOCKS5 relay; lives as long as its TCP control connection (RFC 1928 §7). */
class SocksPacketConn implements PacketConn {
  #control: Stream;
  #packets: PacketConn;
  #relay: Socksaddr;
  #closed = false;

  constructor(control: Stream, packets: PacketConn, relay: Socksaddr) {
    this.#control = control;
    this.#packets = packets;
    this.#relay = relay;
    // The association ends when the control connection closes.
    (async () => {
      const buf = new Uint8Array(64);
      try {
        while (await control.read(buf) !== null) { /* discard */ }
      } catch { /* closed */ }
      this.close();
    })();
  }

  async readPacket(): Promise<Packet | null> {
    for (;;) {
      const p = await this.#packets.readPacket();
      if (!p) return null;
      try {
        const d = s5.decodeUdpDatagram(p.data);
        if (d.frag !== 0) continue; // fragments are not supported (RFC 1928 §7 allows dropping)
        return { data: d.data, addr: d.address };
      } catch {
        continue; // malformed datagram from the relay: drop
      }
    }
  }

  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    return this.#packets.writePacket(s5.encodeUdpDatagram(addr, data), this.#relay);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#packets.close();
    try {
      this.#control.close();
    } catch { /* closed */ }
  }
}
