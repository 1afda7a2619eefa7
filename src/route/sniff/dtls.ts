/**
 * DTLS sniffer: a record header with a known content type and version 1.0 or 1.2.
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

/** Sniffs a DTLS record. */
export function sniffDtls(packet: Uint8Array): SniffOutcome {
  if (packet.length < 13) return null;
  if (![20, 21, 22, 23, 25].includes(packet[0])) return null;
  if (packet[1] !== 0xfe || (packet[2] !== 0xff && packet[2] !== 0xfd)) return null;
  return { protocol: "dtls" };
}
