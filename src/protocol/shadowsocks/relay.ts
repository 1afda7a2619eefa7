/**
 * Shadowsocks 2022 relay (sing-box inbound `destinations`; sing-shadowsocks
 * `shadowaead_2022/relay.go`), sans-I/O. A client names the next server with an identity header
 * keyed by the relay's iPSK; the relay peels that header off and forwards the rest unchanged,
 * without holding the next server's session keys.
 *
 * - TCP: `salt ‖ EIH ‖ rest` with `EIH = AES-ECB(identity subkey(iPSK, salt), BLAKE3(key)[..16])`
 *   is forwarded as `salt ‖ rest`.
 * - UDP: `AES-ECB(iPSK, header) ‖ AES-ECB(iPSK, BLAKE3(key)[..16] ⊕ header) ‖ rest` is forwarded
 *   as `AES-ECB(key, header) ‖ rest`, where `header = sessionID(8) ‖ packetID(8)`.
 *
 * Only the AES methods have identity headers.
 *
 * @module
 */
import { createAesEcb } from "../../common/aead.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { ShadowsocksMethod } from "./method.ts";
import { openIdentityHeader, pskHash } from "./ss2022.ts";
import { openUdpIdentity } from "./ss2022_udp.ts";

/** Bytes of a relay TCP request the relay must see: the salt and one identity header. */
export function relayHeaderLength(method: ShadowsocksMethod): number {
  return method.saltSize + 16;
}

/** A relay: the iPSK and the next hops' keys (index = position in `destinations`). */
export class Ss2022Relay {
  #method: ShadowsocksMethod;
  #ipsk: Uint8Array;
  #keys: Uint8Array[];
  #byHash = new Map<string, number>();

  /**
   * @throws {RangeError} For a method without identity headers (not AES 2022).
   */
  constructor(method: ShadowsocksMethod, ipsk: Uint8Array, keys: Uint8Array[]) {
    if (method.kind !== "2022" || !method.aead.startsWith("aes-")) {
      throw new RangeError(`Relay needs a 2022 AES method, not "${method.name}"`);
    }
    this.#method = method;
    this.#ipsk = ipsk;
    this.#keys = keys;
    keys.forEach((k, i) => this.#byHash.set(hex(pskHash(k)), i));
  }

  /**
   * Peels the identity header off the start of a TCP request (`head` holds at least
   * {@linkcode relayHeaderLength} bytes). Returns the destination index and what to send on.
   *
   * @throws {ProtocolError} If `head` is short or the identity header names no destination.
   */
  openTcp(head: Uint8Array): { index: number; forward: Uint8Array } {
    const n = this.#method.saltSize;
    if (head.length < n + 16) throw new ProtocolError("shadowsocks-relay", head.length, "truncated request");
    const salt = head.subarray(0, n);
    const index = this.#byHash.get(hex(openIdentityHeader(this.#ipsk, salt, head.subarray(n, n + 16))));
    if (index === undefined) throw new ProtocolError("shadowsocks-relay", n, "unknown destination");
    const forward = new Uint8Array(head.length - 16);
    forward.set(salt);
    forward.set(head.subarray(n + 16), n);
    return { index, forward };
  }

  /**
   * Rewrites one UDP datagram for its destination. `session` (hex session ID) keys the NAT.
   *
   * @throws {ProtocolError} If the datagram is short or names no destination.
   */
  openUdp(packet: Uint8Array): { index: number; session: string; forward: Uint8Array } {
    const { header, hash } = openUdpIdentity(this.#ipsk, packet);
    const index = this.#byHash.get(hex(hash));
    if (index === undefined) throw new ProtocolError("shadowsocks-relay", 16, "unknown destination");
    const forward = packet.slice(16);
    createAesEcb(this.#keys[index]).encrypt(forward.subarray(0, 16), header);
    return { index, session: hex(header.subarray(0, 8)), forward };
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
