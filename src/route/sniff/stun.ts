/**
 * STUN sniffer (RFC 5389 §6: the magic cookie 0x2112A442 at byte 4).
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

/** Sniffs a STUN message. */
export function sniffStun(packet: Uint8Array): SniffOutcome {
  if (packet.length < 20) return null;
  if (packet[4] !== 0x21 || packet[5] !== 0x12 || packet[6] !== 0xa4 || packet[7] !== 0x42) return null;
  if (packet.length < 20 + ((packet[2] << 8) | packet[3])) return null;
  return { protocol: "stun" };
}
