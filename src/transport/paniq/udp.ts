/**
 * The UDP socket the paniq shims use. On Linux with FFI allowed it is a
 * {@linkcode UdpBatchSocket} (recvmmsg/sendmmsg from the shared poller, no per-datagram
 * allocation or promise); elsewhere, or with `SWITCHYARD_PANIQ_UDP=deno`, the same interface over
 * `Deno.listenDatagram`. Addresses are sockaddr bytes (`ffi/udp_batch.ts`).
 *
 * @module
 */
import { type UdpBatchOptions, UdpBatchSocket } from "../../../ffi/udp_batch.ts";
import { growOwnSocketBuffer } from "../../../ffi/mmsg.ts";
import { decodeSockaddr, encodeSockaddr } from "../../../ffi/sockaddr.ts";

/** What the shims need from a UDP socket. */
export interface ShimSocket {
  /** Bound local port. */
  readonly port: number;
  /** `data`/`from` are views valid during the call only; `onBatchEnd` follows each burst. */
  start(onDatagram: (data: Uint8Array, from: Uint8Array) => void, onBatchEnd?: () => void): void;
  /** A buffer to write the next datagram into (at least 2048 bytes). */
  reserve(): Uint8Array;
  /**
   * Queues the first `length` bytes of the reserved buffer for `to` (sockaddr bytes), or for the
   * connected peer when `to` is null.
   */
  commit(length: number, to: Uint8Array | null): void;
  /** Copies and queues `data` for `to` (null: the connected peer). */
  send(data: Uint8Array, to: Uint8Array | null): void;
  /**
   * Fixes the peer (sockaddr bytes): only its datagrams arrive, and sends with `to` null go to it
   * (without an address on the FFI socket, sparing a route lookup per datagram).
   * @throws {Error} If the socket cannot be connected
   */
  connect(peer: Uint8Array): void;
  /** Sends what is queued. */
  flush(): void;
  close(): void;
}

let ffiOk: boolean | undefined;
/** True if shim sockets use FFI (Linux, `--allow-ffi`, not overridden by `SWITCHYARD_PANIQ_UDP=deno`). */
export function ffiSocketsAvailable(): boolean {
  if (ffiOk !== undefined) return ffiOk;
  try {
    ffiOk = Deno.build.os === "linux" && Deno.permissions.querySync({ name: "ffi" }).state === "granted" &&
      Deno.env.get("SWITCHYARD_PANIQ_UDP") !== "deno";
  } catch {
    ffiOk = false;
  }
  return ffiOk;
}

/**
 * Gives the loopback QUIC socket on `port` (Deno's, default-sized) a 4 MiB receive buffer so a
 * burst from the shim is not dropped; best effort, FFI only.
 */
export function growQuicBuffer(port: number): void {
  if (!ffiSocketsAvailable()) return;
  try {
    growOwnSocketBuffer(port);
  } catch { /* no /proc: keep the default */ }
}

/** True if `hostname` is an IP literal (the FFI socket needs one). */
function isIpLiteral(hostname: string): boolean {
  try {
    encodeSockaddr(hostname, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Binds a UDP socket on `hostname`:`port` (0 = ephemeral).
 * @throws {Error} If the address is in use or invalid
 */
export function openShimSocket(hostname: string, port: number, options?: UdpBatchOptions): ShimSocket {
  if (ffiSocketsAvailable() && isIpLiteral(hostname)) return UdpBatchSocket.bind(hostname, port, options);
  return new DenoShimSocket(Deno.listenDatagram({ transport: "udp", hostname, port }));
}

/** The portable fallback over `Deno.listenDatagram` (one promise per datagram). */
class DenoShimSocket implements ShimSocket {
  readonly port: number;
  readonly #conn: Deno.DatagramConn;
  readonly #buf = new Uint8Array(65536);
  #peer: Uint8Array | null = null;
  #closed = false;

  constructor(conn: Deno.DatagramConn) {
    this.#conn = conn;
    this.port = (conn.addr as Deno.NetAddr).port;
  }

  start(onDatagram: (data: Uint8Array, from: Uint8Array) => void, onBatchEnd = () => {}): void {
    (async () => {
      for (;;) {
        const [data, from] = await this.#conn.receive();
        const a = from as Deno.NetAddr;
        onDatagram(data, encodeSockaddr(a.hostname, a.port));
        onBatchEnd();
      }
    })().catch(() => {});
  }

  reserve(): Uint8Array {
    return this.#buf;
  }

  commit(length: number, to: Uint8Array | null): void {
    this.send(this.#buf.slice(0, length), to);
  }

  connect(peer: Uint8Array): void {
    this.#peer = peer.slice();
  }

  send(data: Uint8Array, to: Uint8Array | null): void {
    const dest = to ?? this.#peer;
    if (this.#closed || !dest) return;
    const { hostname, port } = decodeSockaddr(dest);
    this.#conn.send(data.slice(), { transport: "udp", hostname, port }).catch(() => {});
  }

  flush(): void {}

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}
