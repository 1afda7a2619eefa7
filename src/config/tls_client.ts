/**
 * The outbound `tls` object as far as Deno's rustls client allows (spec sing-box.md §2.2 and
 * §9.1): `server_name`, `alpn`, `certificate`/`certificate_path` (extra trusted roots).
 * `insecure`, uTLS, REALITY, ECH and fragmentation need ClientHello control Deno does not
 * expose; they are rejected with a clear error rather than silently ignored.
 *
 * @module
 */
import { z } from "zod";
import { listable } from "./common.ts";

const unsupported = (key: string) =>
  z.any().refine((v) => v === undefined || v === false || (typeof v === "object" && v?.enabled !== true), {
    error: `${key} is not supported by this build (Deno's TLS client has no ClientHello control)`,
  }).optional();

/** Schema of an outbound `tls` object. */
export const tlsClientSchema = z.strictObject({
  enabled: z.boolean().optional(),
  server_name: z.string().optional(),
  alpn: listable(z.string()).optional(),
  certificate: listable(z.string()).optional(),
  certificate_path: z.string().optional(),
  min_version: z.string().optional(),
  max_version: z.string().optional(),
  cipher_suites: listable(z.string()).optional(),
  insecure: z.boolean().refine((v) => !v, {
    error: 'insecure is not supported by this build: add the server certificate with "certificate" instead',
  }).optional(),
  disable_sni: unsupported("disable_sni"),
  utls: unsupported("utls"),
  reality: unsupported("reality"),
  ech: unsupported("ech"),
  fragment: unsupported("fragment"),
  record_fragment: unsupported("record_fragment"),
});

/** Parsed outbound TLS options. */
export type TlsClientOptions = z.output<typeof tlsClientSchema>;

/** Reports whether `conn` is a Deno TCP connection (the only kind `Deno.startTls` accepts). */
export function isTcpConn(conn: unknown): conn is Deno.TcpConn {
  const c = conn as Partial<Deno.TcpConn> | null;
  return typeof c?.setNoDelay === "function" &&
    (c.remoteAddr as Deno.NetAddr | undefined)?.transport === "tcp";
}

/**
 * Starts a TLS client session on a connected TCP stream.
 * @param conn must be a `Deno.TcpConn` (Deno can only start TLS on its own TCP connections)
 * @throws {TypeError} If `conn` is not a Deno TCP connection (e.g. a detour through a proxy)
 */
export async function startTlsClient(
  conn: unknown,
  options: TlsClientOptions,
  defaultServerName: string,
): Promise<Deno.TlsConn> {
  if (!isTcpConn(conn)) {
    throw new TypeError("Cannot start TLS: only direct TCP connections support TLS in this build");
  }
  const caCerts = [...(options.certificate ?? [])];
  if (options.certificate_path) caCerts.push(await Deno.readTextFile(options.certificate_path));
  const tls = await Deno.startTls(conn, {
    hostname: options.server_name ?? defaultServerName,
    alpnProtocols: options.alpn,
    caCerts: caCerts.length ? caCerts : undefined,
  });
  await tls.handshake();
  return tls;
}
