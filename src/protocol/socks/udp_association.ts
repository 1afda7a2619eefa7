/**
 * The server side of a SOCKS5 UDP association (RFC 1928 §7): a UDP socket that accepts
 * datagrams only from the client's IP, strips and adds the SOCKS UDP header, and lives as
 * long as the TCP control connection.
 *
 * @module
 */
import type { Packet, PacketConn, Socksaddr } from "../../adapter/types.ts";
import { decodeUdpDatagram, encodeUdpDatagram } from "./socks5.ts";

/** A {@linkcode PacketConn} over a SOCKS5 UDP relay socket. */
export class UdpAssociation implements PacketConn {
  readonly socket: Deno.DatagramConn;
  #clientIp: string;
  #client: Deno.NetAddr | null = null;
  #pending: Packet | null = null;
  #closed = false;
  /** Datagrams dropped as malformed, fragmented or from a foreign address. */
  dropped = 0;

  /**
   * @param hostname local address to bind (the inbound's listen address)
   * @param clientIp the control connection's peer IP; other senders are ignored
   */
  constructor(hostname: string, clientIp: string) {
    this.socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.#clientIp = clientIp;
  }

  /** Bound address to announce in the reply. */
  get localAddr(): Deno.NetAddr {
    return this.socket.addr as Deno.NetAddr;
  }

  /** Reads the first valid datagram and keeps it for the next `readPacket()`. */
  async peek(): Promise<Packet | null> {
    this.#pending ??= await this.#receive();
    return this.#pending;
  }

  async #receive(): Promise<Packet | null> {
    while (!this.#closed) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await this.socket.receive();
      } catch {
        return null;
      }
      const src = from as Deno.NetAddr;
      if (src.hostname !== this.#clientIp) {
        this.dropped++;
        continue;
      }
      try {
        const d = decodeUdpDatagram(data);
        if (d.frag !== 0) {
          this.dropped++;
          continue;
        }
        this.#client = src;
        return { data: d.data, addr: d.address };
      } catch {
        this.dropped++;
      }
    }
    return null;
  }

  readPacket(): Promise<Packet | null> {
    if (this.#pending) {
      const p = this.#pending;
      this.#pending = null;
      return Promise.resolve(p);
    }
    return this.#receive();
  }

  async writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    if (!this.#client) return;
    await this.socket.send(encodeUdpDatagram(addr, data), this.#client);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.socket.close();
    } catch { /* closed */ }
  }
}
