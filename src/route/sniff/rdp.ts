/**
 * RDP sniffer: a TPKT + X.224 Connection Request carrying an RDP Negotiation Request
 * (MS-RDPBCGR §2.2.1.1).
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

/** Sniffs an RDP connection request. */
export function sniffRdp(bytes: Uint8Array): SniffOutcome {
  // Byte: expected value (undefined = any). TPKT v3, reserved 0, length 19, COTP len 14,
  // CR TPDU 0xE0, 5 bytes dst/src ref + class, RDP_NEG_REQ type 1, flags, length 8.
  const expect: (number | undefined)[] = [0x03, 0x00, 0x00, 19, 14, 0xe0, , , , , , 0x01, , 0x08];
  for (let i = 0; i < expect.length; i++) {
    if (i >= bytes.length) return "need-more";
    if (expect[i] !== undefined && bytes[i] !== expect[i]) return null;
  }
  return { protocol: "rdp" };
}
