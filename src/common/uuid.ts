/**
 * UUID text ↔ 16 bytes (VMess and VLESS user ids).
 *
 * @module
 */
import { ConfigError } from "./errors.ts";

const UUID_REGEXP = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Parses a UUID (with or without dashes) into 16 bytes.
 *
 * @throws {ConfigError} If `text` is not a UUID.
 */
export function parseUuid(text: string, path = "uuid"): Uint8Array {
  if (!UUID_REGEXP.test(text)) throw new ConfigError(path, `invalid UUID "${text}"`);
  const hex = text.replaceAll("-", "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Formats 16 bytes as a dashed lowercase UUID. */
export function formatUuid(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
