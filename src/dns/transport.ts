/**
 * The DNS transport contract (sing-box `adapter.DNSTransport`): one upstream that takes a DNS
 * query in wire format and answers with a DNS response in wire format. Every server type of
 * `dns.servers[]` (`udp`, `tcp`, `tls`, `https`, `h3`, `quic`, `local`, `hosts`, `fakeip`) is one
 * implementation; the DNS client and router see only this interface.
 *
 * @module
 */

/** An upstream DNS server. */
export interface DnsTransport {
  /** Server type as in the config (`udp`, `tcp`, `tls`, `https`, `h3`, `quic`, `local`, `hosts`, `fakeip`). */
  readonly type: string;
  /** Server tag as in the config. */
  readonly tag: string;
  /**
   * Sends one query (a full DNS message, no TCP length prefix) and resolves to the response
   * message. The response's ID equals the query's ID. Rejects on timeout, abort or transport
   * failure; a DNS error code (NXDOMAIN, SERVFAIL…) is a normal response, not a rejection.
   */
  exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  /** Closes pooled connections and sockets. Idempotent. */
  close(): Promise<void>;
}
