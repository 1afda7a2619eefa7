/**
 * The sniffer contract: each sniffer is a pure function of the bytes seen so far.
 *
 * @module
 */

/** What a sniffer found. */
export interface SniffResult {
  /** `tls`, `http`, `quic`, `dns`, `stun`, `bittorrent`, `dtls`, `ssh`, `rdp`, `ntp`. */
  protocol: string;
  /** Server name (TLS/QUIC SNI, HTTP Host without port). */
  domain?: string;
  /** Client kind (QUIC: chromium/safari/firefox/quic-go/unknown; SSH: the software version). */
  client?: string;
  /** ALPN protocols offered (TLS, QUIC). */
  alpn?: string[];
}

/**
 * A sniffer's answer: a result, `"need-more"` when the bytes are a valid prefix that is too
 * short to decide, or `null` when the bytes are not this protocol.
 */
export type SniffOutcome = SniffResult | "need-more" | null;

/** The sniffer names of `sniff.sniffer[]`, in the order sing-box tries them. */
export const STREAM_SNIFFERS = ["http", "tls", "bittorrent", "ssh", "rdp", "dns"] as const;
/** Packet sniffers in sing-box order. */
export const PACKET_SNIFFERS = ["quic", "stun", "bittorrent", "dtls", "ntp", "dns"] as const;
