/**
 * The client TLS fields the `tls` and `https` DNS transports honour, as Deno's rustls exposes
 * them: SNI/verification name, extra trust anchors, ALPN.
 *
 * @module
 */

/** Client TLS settings of a DNS server (`tls{}` in the config). */
export interface DnsTlsOptions {
  /** Name sent as SNI and verified against the certificate; defaults to `server`. */
  serverName?: string;
  /** Extra trusted CA certificates in PEM (`certificate` / `certificate_path`). */
  caCerts?: string[];
  /** ALPN protocols to offer. */
  alpn?: string[];
  /** Skip certificate verification (`insecure`; DoT goes through `node:tls` then). */
  insecure?: boolean;
}
