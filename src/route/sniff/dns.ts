/**
 * DNS sniffers: a query datagram, or a length-prefixed query on a stream (RFC 1035 §4.2).
 *
 * @module
 */
import { decodeMessage } from "../../dns/message.ts";
import type { SniffOutcome } from "./types.ts";

/** Sniffs a DNS query datagram. */
export function sniffDnsPacket(packet: Uint8Array): SniffOutcome {
  if (packet.length < 12 || (packet[2] & 0x80) !== 0) return null;
  try {
    const m = decodeMessage(packet);
    if (m.questions.length === 0 || m.answers.length > 0 || m.authorities.length > 0) return null;
  } catch {
    return null;
  }
  return { protocol: "dns" };
}

/** Sniffs a DNS query on a stream (2-byte length, then the message). */
export function sniffDnsStream(bytes: Uint8Array): SniffOutcome {
  if (bytes.length < 2) return "need-more";
  const length = (bytes[0] << 8) | bytes[1];
  if (length < 12) return null;
  const msg = bytes.subarray(2, 2 + length);
  const n = msg.length;
  if (n > 2 && (msg[2] & 0x80) !== 0) return null; // QR
  if (n > 5 && msg[4] === 0 && msg[5] === 0) return null; // QDCOUNT
  for (let i = 6; i < 10; i++) if (n > i && msg[i] !== 0) return null; // ANCOUNT, NSCOUNT
  if (n < length) return "need-more";
  return sniffDnsPacket(msg);
}
