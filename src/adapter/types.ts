/**
 * Contracts between inbounds, the router and outbounds (sing-box's `adapter` package).
 * Types and type guards only: no behaviour lives here. An inbound produces a {@linkcode Stream} or
 * {@linkcode PacketConn} plus {@linkcode Metadata}; an outbound consumes them.
 *
 * @module
 */

/** Transport network of a connection. */
export type Network = "tcp" | "udp";

/**
 * A destination or source address. `host` is an IPv4 or IPv6 literal (no brackets) or a
 * domain name; `port` is 0..65535.
 */
export interface Socksaddr {
  host: string;
  port: number;
}

/**
 * A bidirectional byte stream. `Deno.TcpConn` and `Deno.TlsConn` satisfy it as they are,
 * so the relay fast path has no wrapper.
 */
export interface Stream {
  /** Reads into `p`; resolves to the byte count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves to the number of bytes written (may be fewer than `p.length`). */
  write(p: Uint8Array): Promise<number>;
  /** Half-closes the write side (TCP FIN); reads continue. */
  closeWrite(): Promise<void>;
  /** Closes both directions and releases the resource. Idempotent for wrappers. */
  close(): void;
}

/** One datagram and its peer address. */
export interface Packet {
  data: Uint8Array;
  addr: Socksaddr;
}

/**
 * A datagram connection that can talk to many destinations (SOCKS5 UDP ASSOCIATE, direct UDP).
 */
export interface PacketConn {
  /** Resolves to the next datagram, or `null` once the connection is closed. */
  readPacket(): Promise<Packet | null>;
  /** Sends `data` to `addr`. Throws once closed. */
  writePacket(data: Uint8Array, addr: Socksaddr): Promise<void>;
  close(): void;
}

/**
 * What an inbound knows about a connection (sing-box `InboundContext`, input part only).
 * Sniff results are filled by the router's sniff action.
 */
export interface Metadata {
  /** Tag of the inbound that accepted the connection. */
  inbound: string;
  /** Type of that inbound (`mixed`, `socks`, …). */
  inboundType: string;
  network: Network;
  source: Socksaddr;
  destination: Socksaddr;
  /** User name the inbound authenticated, if any (route rule `auth_user`). */
  user?: string;
  /** Sniffed protocol (`tls`, `http`, `quic`, …). */
  protocol?: string;
  /** Sniffed domain (TLS SNI, HTTP Host). */
  domain?: string;
  /** Sniffed client name. */
  client?: string;
  /** Resolved addresses for a domain destination (resolve action). */
  destinationAddresses?: string[];
  /** The local process that opened the connection, when a rule needs it (`process_name`, `user`, …). */
  process?: ProcessInfo;
}

/** The local process owning a connection's source socket (sing-box `process.Info`). */
export interface ProcessInfo {
  pid: number;
  /** Absolute path of the executable (`/proc/<pid>/exe`). */
  path: string;
  /** Owner's user name, when the id has one. */
  user?: string;
  /** Owner's numeric user id. */
  userId: number;
}

/** Options passed with each dial. */
export interface DialOptions {
  /** Aborts the dial (connect timeout, shutdown). */
  signal?: AbortSignal;
  /** The connection being served, for logging and per-connection decisions. */
  metadata?: Metadata;
}

/** Something that can open streams and packet connections: an outbound or a detour chain. */
export interface Dialer {
  /** Opens a TCP-like stream to `destination`. Throws on failure (refused, unreachable, blocked). */
  dial(destination: Socksaddr, options?: DialOptions): Promise<Stream>;
  /** Opens a packet connection; `destination` is the first peer (used by proxies that need one). */
  listenPacket(destination: Socksaddr, options?: DialOptions): Promise<PacketConn>;
}

/** An outbound (sing-box `adapter.Outbound`). */
export interface Outbound extends Dialer {
  readonly type: string;
  readonly tag: string;
  /** Networks this outbound can carry. */
  readonly network: readonly Network[];
  /** Tags of outbounds this one needs started first (detour). */
  readonly dependencies?: readonly string[];
  start?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * An outbound that hands each connection to one of its members (sing-box
 * `adapter.OutboundGroup`): `selector` and `urltest`.
 */
export interface OutboundGroup extends Outbound {
  /** Tag of the member in use now (`""` when none is usable). */
  now(): string;
  /** Member tags in config order. */
  all(): readonly string[];
}

/** Reports whether `o` is an {@linkcode OutboundGroup}. */
export function isOutboundGroup(o: Outbound): o is OutboundGroup {
  return typeof (o as Partial<OutboundGroup>).now === "function" &&
    typeof (o as Partial<OutboundGroup>).all === "function";
}

/** One URL-test result (sing-box `adapter.URLTestHistory`). */
export interface UrlTestHistory {
  /** When the test finished, ms since the epoch. */
  time: number;
  /** Delay from dial start to the response head, ms (at least 1). */
  delay: number;
}

/** URL-test results keyed by real outbound tag, shared by urltest groups and the Clash API. */
export interface UrlTestHistoryStorage {
  load(tag: string): UrlTestHistory | undefined;
  store(tag: string, history: UrlTestHistory): void;
  delete(tag: string): void;
}

/** Where a selector's choice persists (`experimental.cache_file`, sing-box `CacheFile`). */
export interface SelectionStore {
  /** The stored member tag of `group`, or undefined. */
  loadSelected(group: string): string | undefined;
  /** Remembers `selected` for `group` (written to disk later, debounced). */
  storeSelected(group: string, selected: string): void;
}

/** An inbound (sing-box `adapter.Inbound`). */
export interface Inbound {
  readonly type: string;
  readonly tag: string;
  /** Binds listeners. Throws if the address is in use. */
  start(): Promise<void>;
  /** Stops accepting; established connections are left to the router. */
  close(): Promise<void>;
}

/**
 * Callbacks an inbound gives the router so it can write its protocol's reply once the outcome
 * of routing and dialing is known (SOCKS5 reply, HTTP `200 Connection established`).
 */
export interface HandshakeHooks {
  /** The outbound stream is up; write the success reply. */
  onSuccess?(): Promise<void>;
  /** Routing rejected the connection or the dial failed; write the protocol's error reply. */
  onFailure?(error: Error): Promise<void>;
}

/** What inbounds call to hand over an accepted connection (sing-box `ConnectionRouterEx`). */
export interface ConnectionRouter {
  /** Routes, dials and relays `stream` until both directions finish. Never throws. */
  routeConnection(stream: Stream, metadata: Metadata, hooks?: HandshakeHooks): Promise<void>;
  /** Routes and relays datagrams until the connection is idle or closed. Never throws. */
  routePacketConnection(conn: PacketConn, metadata: Metadata, hooks?: HandshakeHooks): Promise<void>;
}

/** Reason a connection was refused by routing; inbounds map it to their error reply. */
export class RejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RejectedError";
  }
}
