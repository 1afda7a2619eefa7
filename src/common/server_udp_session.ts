/**
 * One client's UDP flow on an inbound's shared server socket (direct, shadowsocks), as a
 * {@linkcode PacketConn}: datagrams the inbound received are queued for the router; replies
 * are sealed by the protocol and sent to the client's latest address.
 *
 * @module
 */
import type { Packet, PacketConn, Socksaddr } from "../adapter/types.ts";

/** Queued datagrams kept per session before the oldest is dropped. */
const MAX_QUEUED = 256;

/** One client's UDP flow; `seal` turns a reply into the datagram sent to the client. */
export class ServerUdpSession implements PacketConn {
  #queue: Packet[] = [];
  #waiter: (() => void) | null = null;
  closed = false;
  /** Where replies go: the latest source address of the session's packets. */
  client: Deno.NetAddr;
  constructor(
    readonly socket: Deno.DatagramConn,
    client: Deno.NetAddr,
    readonly seal: (data: Uint8Array, addr: Socksaddr) => Uint8Array,
    readonly onClose: () => void,
  ) {
    this.client = client;
  }
  push(p: Packet): void {
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push(p);
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }
  async readPacket(): Promise<Packet | null> {
    while (this.#queue.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((r) => this.#waiter = r);
    }
    return this.#queue.shift()!;
  }
  async writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    if (this.closed) return;
    await this.socket.send(this.seal(data, addr), this.client);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
    this.onClose();
  }
}
