/**
 * BitTorrent sniffers: the peer-wire handshake on TCP (BEP 3), and on UDP uTP (BEP 29) or the
 * UDP tracker connect request (BEP 15).
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

const HEADER = new TextEncoder().encode("\x13BitTorrent protocol");

/** Sniffs the BitTorrent handshake at the start of a stream. */
export function sniffBittorrentStream(bytes: Uint8Array): SniffOutcome {
  const n = Math.min(bytes.length, HEADER.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== HEADER[i]) return null;
  return bytes.length < HEADER.length ? "need-more" : { protocol: "bittorrent" };
}

/** Sniffs a uTP packet. */
export function sniffUtp(packet: Uint8Array): SniffOutcome {
  if (packet.length < 20) return null;
  const version = packet[0] & 0x0f;
  const type = packet[0] >> 4;
  if (version !== 1 || type > 4) return null;
  let extension = packet[1];
  let p = 20;
  while (extension !== 0) {
    if (p + 2 > packet.length) return null;
    extension = packet[p];
    if (extension > 4) return null;
    p += 2 + packet[p + 1];
    if (p > packet.length) return null;
  }
  return { protocol: "bittorrent" };
}

/** Sniffs a UDP tracker connect request (protocol ID 0x41727101980, action 0). */
export function sniffUdpTracker(packet: Uint8Array): SniffOutcome {
  if (packet.length < 16) return null;
  const id = [0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80];
  for (let i = 0; i < 8; i++) if (packet[i] !== id[i]) return null;
  for (let i = 8; i < 12; i++) if (packet[i] !== 0) return null;
  return { protocol: "bittorrent" };
}

/** Sniffs a BitTorrent datagram (uTP or UDP tracker). */
export function sniffBittorrentPacket(packet: Uint8Array): SniffOutcome {
  return sniffUtp(packet) ?? sniffUdpTracker(packet);
}
