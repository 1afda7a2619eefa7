/**
 * NTP sniffer: a version 3 or 4 client request (mode 3) with sane root delay and dispersion.
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

/** Sniffs an NTP client request. */
export function sniffNtp(packet: Uint8Array): SniffOutcome {
  if (packet.length < 48) return null;
  const vn = (packet[0] >> 3) & 0x07;
  const mode = packet[0] & 0x07;
  if ((vn !== 3 && vn !== 4) || mode !== 3) return null;
  const u32 = (o: number) =>
    ((packet[o] << 24) >>> 0) + (packet[o + 1] << 16) + (packet[o + 2] << 8) + packet[o + 3];
  if (u32(4) / 65536 > 16 || u32(8) / 65536 > 16) return null;
  return { protocol: "ntp" };
}
