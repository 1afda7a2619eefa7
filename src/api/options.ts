/**
 * Schema of `experimental.clash_api` (spec sing-box.md §5.1, sing-box `ClashAPIOptions`) and the
 * `external_controller` address parser. The pre-1.8 cache fields are rejected as in sing-box.
 *
 * @module
 */
import { z } from "zod";
import { listable } from "../config/common.ts";

const movedToCacheFile = z.unknown().optional().refine((v) => v === undefined || v === "" || v === false, {
  error: "cache_file and related fields in Clash API is deprecated in sing-box 1.8.0, " +
    "use experimental.cache_file instead",
});

/** Schema of `experimental.clash_api`. */
export const clashApiSchema = z.strictObject({
  external_controller: z.string().optional().refine((v) => !v || parseController(v) !== null, {
    error: 'expected "host:port" (IPv6 in brackets)',
  }),
  external_ui: z.string().optional(),
  external_ui_download_url: z.string().optional(),
  external_ui_download_detour: z.string().optional(),
  secret: z.string().optional(),
  default_mode: z.string().optional(),
  access_control_allow_origin: listable(z.string()).optional(),
  access_control_allow_private_network: z.boolean().optional(),
  cache_file: movedToCacheFile,
  cache_id: movedToCacheFile,
  store_mode: movedToCacheFile,
  store_selected: movedToCacheFile,
  store_fakeip: movedToCacheFile,
});

/** Parsed `experimental.clash_api`. */
export type ClashApiOptions = z.output<typeof clashApiSchema>;

/**
 * Parses `host:port` (`127.0.0.1:9090`, `[::1]:9090`, `:9090` for all addresses).
 * @returns the listen address, or null if malformed
 */
export function parseController(text: string): { hostname: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}
