/**
 * Server TLS settings for inbounds: PEM certificate and key from inline lines or files.
 *
 * @module
 */
import { ConfigError } from "../../common/errors.ts";
import type { InboundTlsOptions } from "./config.ts";

/** What `Deno.listenTls` needs. */
export interface TlsServerConfig {
  cert: string;
  key: string;
  alpnProtocols?: string[];
}

/**
 * Loads the certificate and key.
 *
 * @throws {ConfigError} If either is missing.
 */
export function tlsServerConfig(options: InboundTlsOptions, path = "tls"): TlsServerConfig {
  const cert = options.certificate?.length
    ? options.certificate.join("\n")
    : options.certificate_path
    ? Deno.readTextFileSync(options.certificate_path)
    : undefined;
  const key = options.key?.length
    ? options.key.join("\n")
    : options.key_path
    ? Deno.readTextFileSync(options.key_path)
    : undefined;
  if (!cert) throw new ConfigError(`${path}.certificate`, "missing server certificate");
  if (!key) throw new ConfigError(`${path}.key`, "missing server key");
  return { cert, key, alpnProtocols: options.alpn?.length ? options.alpn : undefined };
}
