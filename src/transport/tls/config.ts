/**
 * The `tls{}` object of inbounds and outbounds (sing-box `option/tls.go`), and what this
 * runtime can honour. Deno's TLS is rustls: no TLS 1.0/1.1, no cipher-suite selection, no
 * uTLS fingerprints, REALITY, ECH or record fragmentation; SNI cannot be turned off on the
 * native path. `insecure` uses `node:tls` (Deno's rustls has no per-connection switch to skip
 * verification). Pinning through `certificate`/`certificate_path` adds those PEMs as the only
 * extra trust anchors.
 *
 * @module
 */
import { z } from "zod";
import { listable } from "../../config/common.ts";

const notSupported = (what: string) =>
  z.strictObject({ enabled: z.boolean().optional() }).passthrough().optional().refine(
    (v) => !v?.enabled,
    { error: `${what} is not supported by this build` },
  );

/** Outbound `tls{}`. */
export const outboundTlsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  disable_sni: z.boolean().optional(),
  server_name: z.string().optional(),
  insecure: z.boolean().optional(),
  alpn: listable(z.string()).optional(),
  min_version: z.string().optional(),
  max_version: z.string().optional(),
  cipher_suites: listable(z.string()).optional(),
  certificate: listable(z.string()).optional(),
  certificate_path: z.string().optional(),
  fragment: z.boolean().optional(),
  fragment_fallback_delay: z.string().optional(),
  record_fragment: z.boolean().optional(),
  utls: z.strictObject({ enabled: z.boolean().optional(), fingerprint: z.string().optional() }).optional(),
  ech: notSupported("ECH"),
  reality: notSupported("REALITY"),
});

/** Inbound `tls{}`. */
export const inboundTlsSchema = z.strictObject({
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
  acme: notSupported("ACME"),
  ech: notSupported("ECH"),
  reality: notSupported("REALITY"),
});

/** Parsed outbound TLS options. */
export type OutboundTlsOptions = z.output<typeof outboundTlsSchema>;
/** Parsed inbound TLS options. */
export type InboundTlsOptions = z.output<typeof inboundTlsSchema>;

/** Fields parsed for portability that this runtime ignores (warned about when set). */
export const IGNORED_TLS_FIELDS = [
  "disable_sni",
  "min_version",
  "max_version",
  "cipher_suites",
  "fragment",
  "record_fragment",
] as const;
