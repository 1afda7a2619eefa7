/**
 * The system dialer behind `direct` and every outbound without a `detour`: name resolution
 * through getaddrinfo (honours /etc/hosts), Happy Eyeballs racing (RFC 8305), connect timeout,
 * optional local bind address, and a direct UDP packet connection.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import net from "node:net";
import type { Dialer, DialOptions, Packet, PacketConn, Socksaddr, Stream } from "../adapter/types.ts";
import { race, type ResolvedAddress, sortAddresses, type Strategy } from "./happy_eyeballs.ts";
import { NodeDuplexStream } from "./node_stream.ts";
import { isIP } from "./socks_addr.ts";

/** Default TCP connect timeout, ms (sing-box `C.TCPConnectTimeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Default Happy Eyeballs attempt delay, ms (sing-box `fallback_delay` default). */
export const DEFAULT_FALLBACK_DELAY_MS = 300;

/** Options of {@linkcode SystemDialer}. */
export interface SystemDialerOptions {
  /** @default 5000 */
  connectTimeoutMs?: number;
  /** @default 300 */
  fallbackDelayMs?: number;
  /** Family preference for resolved names. @default "" (RFC 8305 order) */
  strategy?: Strategy;
  inet4BindAddress?: string;
  inet6BindAddress?: string;
  /** Resolver override (tests, DNS router); defaults to getaddrinfo. */
  resolve?: (host: string) => Promise<ResolvedAddress[]>;
}

/** Resolves a host name with getaddrinfo; IP literals resolve to themselves. */
export async function systemResolve(host: string): Promise<ResolvedAddress[]> {
  if (isIP(host)) return [{ address: host, family: host.includes(":") ? 6 : 4 }];
  const all = await lookup(host, { all: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

async function connectNode(addr: ResolvedAddress, port: number, localAddress: string): Promise<Stream> {
  const socket = net.connect({ host: addr.address, port, localAddress, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return new NodeDuplexStream(socket);
}

/** Dials TCP and opens UDP sockets on this host. */
export class SystemDialer implements Dialer {
  readonly #opts: SystemDialerOptions;

  constructor(options: SystemDialerOptions = {}) {
    this.#opts = options;
  }

  /** Resolves `host` and orders the addresses by the strategy. */
  async resolve(host: string): Promise<ResolvedAddress[]> {
    const all = await (this.#opts.resolve ?? systemResolve)(host);
    const sorted = sortAddresses(all, this.#opts.strategy ?? "");
    if (sorted.length === 0) throw new Error(`Cannot resolve "${host}": no address for the domain strategy`);
    return sorted;
  }

  /**
   * Connects to `destination`, racing its addresses.
   * @throws {Error} If every address fails (message of the first failure) or on timeout
   */
  async dial(destination: Socksaddr, options?: DialOptions): Promise<Stream> {
    const m = options?.metadata;
    const preResolved = m?.destinationAddresses?.length && m.destination.host === destination.host
      ? sortAddresses(
        m.destinationAddresses.map((
          a,
        ) => ({ address: a, family: a.includes(":") ? 6 : 4 } as ResolvedAddress)),
        this.#opts.strategy ?? "",
      )
      : null;
    const addrs = preResolved?.length ? preResolved : await this.resolve(destination.host);
    const o = this.#opts;
    return await race<Stream>(addrs, async (addr) => {
      const local = addr.family === 4 ? o.inet4BindAddress : o.inet6BindAddress;
      if (local) return await connectNode(addr, destination.port, local);
      const conn = await Deno.connect({ hostname: addr.address, port: destination.port, transport: "tcp" });
      conn.setNoDelay(true);
      conn.setKeepAlive(true);
      return conn;
    }, {
      delayMs: o.fallbackDelayMs ?? DEFAULT_FALLBACK_DELAY_MS,
      timeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      dispose: (c) => c.close(),
      signal: options?.signal,
    });
  }

  /** Opens a UDP packet connection that can reach any destination. */
  listenPacket(_destination: Socksaddr, _options?: DialOptions): Promise<PacketConn> {
    return Promise.resolve(new DirectPacketConn(this));
  }

  /** Local bind address for a family, if configured. */
  bindAddress(family: 4 | 6): string | undefined {
    return family === 4 ? this.#opts.inet4BindAddress : this.#opts.inet6BindAddress;
  }
}

/** Largest number of received datagrams queued before the oldest are dropped. */
const QUEUE_LIMIT = 512;

/**
 * UDP to any destination through one socket per address family, opened lazily. Replies from
 * an address that was reached through a domain name are reported with that name (sing-box's
 * default domain unmapping).
 */
class DirectPacketConn implements PacketConn {
  #dialer: SystemDialer;
  #sockets = new Map<4 | 6, Deno.DatagramConn>();
  #queue: Packet[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  /** `ip:port` → domain the client addressed. */
  #unmap = new Map<string, string>();
  #resolved = new Map<string, { addr: ResolvedAddress; expires: number }>();

  constructor(dialer: SystemDialer) {
    this.#dialer = dialer;
  }

  #socket(family: 4 | 6): Deno.DatagramConn {
    let s = this.#sockets.get(family);
    if (!s) {
      const hostname = this.#dialer.bindAddress(family) ?? (family === 4 ? "0.0.0.0" : "::");
      s = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
      this.#sockets.set(family, s);
      this.#readLoop(s);
    }
    return s;
  }

  async #readLoop(s: Deno.DatagramConn): Promise<void> {
    try {
      for (;;) {
        const [data, addr] = await s.receive();
        const a = addr as Deno.NetAddr;
        const key = `${a.hostname}:${a.port}`;
        const host = this.#unmap.get(key) ?? a.hostname;
        if (this.#queue.length >= QUEUE_LIMIT) this.#queue.shift();
        this.#queue.push({ data, addr: { host, port: a.port } });
        const w = this.#waiter;
        this.#waiter = null;
        w?.();
      }
    } catch {
      // socket closed
    }
    this.#closed = true;
    this.#waiter?.();
  }

  async readPacket(): Promise<Packet | null> {
    while (this.#queue.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((r) => this.#waiter = r);
    }
    return this.#queue.shift()!;
  }

  async writePacket(data: Uint8Array, addr: Socksaddr): Promise<void> {
    if (this.#closed) throw new Deno.errors.BadResource("packet connection closed");
    let target: ResolvedAddress;
    if (isIP(addr.host)) target = { address: addr.host, family: addr.host.includes(":") ? 6 : 4 };
    else {
      const now = performance.now();
      const cached = this.#resolved.get(addr.host);
      if (cached && cached.expires > now) target = cached.addr;
      else {
        target = (await this.#dialer.resolve(addr.host))[0]!;
        this.#resolved.set(addr.host, { addr: target, expires: now + 60_000 });
      }
      this.#unmap.set(`${target.address}:${addr.port}`, addr.host);
    }
    await this.#socket(target.family).send(data, {
      transport: "udp",
      hostname: target.address,
      port: addr.port,
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sockets.values()) {
      try {
        s.close();
      } catch { /* closed */ }
    }
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }
}
