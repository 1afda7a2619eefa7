/**
 * The inbound `tls` object as far as `Deno.listenTls` allows: certificate and key (inline or
 * by path) and ALPN (spec sing-box.md §2.2). ACME, ECH and REALITY are rejected clearly.
 *
 * @module
 */
import { z } from "zod";
import { listable } from "./common.ts";

const off = (key: string) =>
  z.any().refine((v) => v === undefined || (typeof v === "object" && v?.enabled !== true), {
    error: `${key} is not supported by this build`,
  }).optional();

/** Schema of an inbound `tls` object. */
export const tlsServerSchema = z.strictObject({
  enabled: z.boolean().optional(),
  server_name: z.string().optional(),
  alpn: listable(z.string()).optional(),
  min_version: z.string().optional(),
  max_version: z.string().optional(),
  cipher_suites: listable(z.string()).optional(),
  certificate: listable(z.string()).optional(),
  certificate_path: z.string().optional(),
  key: listable(z.string()).optional(),
  key_path: z.string().optional(),
  acme: off("acme"),
  ech: off("ech"),
  reality: off("reality"),
});

/** Parsed inbound TLS options. */
export type TlsServerOptions = z.output<typeof tlsServerSchema>;

/**
 * Loads the PEM certificate chain and key named by the options.
 * @throws {Error} If either is missing or unreadable
 */
export async function loadServerTls(
  options: TlsServerOptions,
): Promise<{ cert: string; key: string; alpnProtocols?: string[] }> {
  const cert = options.certificate?.join("\n") ??
    (options.certificate_path ? await Deno.readTextFile(options.certificate_path) : undefined);
  const key = options.key?.join("\n") ??
    (options.key_path ? await Deno.readTextFile(options.key_path) : undefined);
  if (!cert || !key) throw new Error("tls: certificate and key are required for an inbound");
  return { cert, key, alpnProtocols: options.alpn };
}
