/**
 * DNS over UDP (`type: "udp"`). Each query gets its own socket (a fresh source port). A
 * truncated answer (TC bit) is retried over TCP to the same server, as sing-box does.
 *
 * @module
 */
import type { PacketConn } from "../../adapter/types.ts";
import { isIP } from "../../common/ip.ts";
import type { DnsTransport } from "../transport.ts";
import { getId, isResponse, isTruncated } from "../wire.ts";
import { type RemoteTransportOptions, resolveServer } from "./_server.ts";
import { withAbort } from "./_stream.ts";
import { TcpTransport } from "./tcp.ts";

/** A `udp` DNS server. */
export class UdpTransport implements DnsTransport {
  readonly type: string = "udp";
  readonly tag: string;
  readonly #options: RemoteTransportOptions;
  readonly #port: number;
  readonly #tcp: TcpTransport;

  constructor(options: RemoteTransportOptions) {
    this.tag = options.tag;
    this.#options = options;
    this.#port = options.serverPort || 53;
    this.#tcp = new TcpTransport(options);
  }

  async exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const host = await resolveServer(this.#options.server, this.#options.resolver, signal);
    const response = this.#options.dialer
      ? await this.#exchangeDialer(host, query, signal)
      : await this.#exchangeNative(host, query, signal);
    if (isTruncated(response)) return await this.#tcp.exchange(query, signal);
    return response;
  }

  async #exchangeNative(host: string, query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const v6 = isIP(host) === 6;
    const conn = Deno.listenDatagram({ transport: "udp", hostname: v6 ? "::" : "0.0.0.0", port: 0 });
    const close = () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    };
    try {
      return await withAbort(signal, close, async () => {
        await conn.send(query, { transport: "udp", hostname: host, port: this.#port });
        const id = getId(query);
        for (;;) {
          const [data, from] = await conn.receive();
          const addr = from as Deno.NetAddr;
          if (addr.port !== this.#port || !sameHost(addr.hostname, host)) continue;
          if (data.length >= 12 && getId(data) === id && isResponse(data)) return data;
        }
      });
    } finally {
      close();
    }
  }

  async #exchangeDialer(host: string, query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const dest = { host, port: this.#port };
    let conn: PacketConn | undefined;
    const close = () => conn?.close();
    try {
      return await withAbort(signal, close, async () => {
        conn = await this.#options.dialer!.listenPacket(dest, { signal });
        await conn.writePacket(query, dest);
        const id = getId(query);
        for (;;) {
          const packet = await conn.readPacket();
          if (!packet) throw new Deno.errors.UnexpectedEof("DNS packet connection closed before an answer");
          if (packet.data.length >= 12 && getId(packet.data) === id && isResponse(packet.data)) {
            return packet.data;
          }
        }
      });
    } finally {
      close();
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (s: string) => s.replace(/^::ffff:/, "");
  return strip(a) === strip(b);
}
