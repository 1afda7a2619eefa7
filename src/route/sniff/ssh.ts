/**
 * SSH sniffer: the client identification line `SSH-2.0-<software>` (RFC 4253 §4.2); the
 * software part becomes `client`.
 *
 * @module
 */
import type { SniffOutcome } from "./types.ts";

const PREFIX = "SSH-2.0-";

/** Sniffs an SSH client banner. */
export function sniffSsh(bytes: Uint8Array): SniffOutcome {
  const n = Math.min(bytes.length, PREFIX.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== PREFIX.charCodeAt(i)) return null;
  if (bytes.length < PREFIX.length) return "need-more";
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) return bytes.length > 255 ? null : "need-more";
  const line = new TextDecoder().decode(bytes.subarray(PREFIX.length, nl)).replace(/\r$/, "");
  return { protocol: "ssh", client: line };
}
