/**
 * Sniffing entry points for the router's `sniff` action: run the enabled sniffers over the first
 * bytes of a stream or the first datagram of a packet flow (sing-box `PeekStream` /
 * `PeekPacket`). Each sniffer is sans-I/O; the caller reads more bytes while the answer is
 * `"need-more"` and the sniff timeout (300 ms by default) has not passed.
 *
 * @module
 */
import { sniffBittorrentPacket, sniffBittorrentStream } from "./bittorrent.ts";
import { sniffDnsPacket, sniffDnsStream } from "./dns.ts";
import { sniffDtls } from "./dtls.ts";
import { sniffHttp } from "./http.ts";
import { sniffNtp } from "./ntp.ts";
import { newQuicSniffContext, type QuicSniffContext, sniffQuic } from "./quic.ts";
import { sniffRdp } from "./rdp.ts";
import { sniffSsh } from "./ssh.ts";
import { sniffStun } from "./stun.ts";
import { sniffTls } from "./tls.ts";
import { PACKET_SNIFFERS, type SniffOutcome, STREAM_SNIFFERS } from "./types.ts";

export type { SniffOutcome, SniffResult } from "./types.ts";
export { PACKET_SNIFFERS, STREAM_SNIFFERS } from "./types.ts";
export { newQuicSniffContext, type QuicSniffContext } from "./quic.ts";

/** Default `sniff.timeout`, milliseconds. */
export const DEFAULT_SNIFF_TIMEOUT_MS = 300;

const STREAM: Record<string, (b: Uint8Array) => SniffOutcome> = {
  http: sniffHttp,
  tls: sniffTls,
  bittorrent: sniffBittorrentStream,
  ssh: sniffSsh,
  rdp: sniffRdp,
  dns: sniffDnsStream,
};

const PACKET: Record<string, (b: Uint8Array, ctx: QuicSniffContext) => SniffOutcome> = {
  quic: sniffQuic,
  stun: (b) => sniffStun(b),
  bittorrent: (b) => sniffBittorrentPacket(b),
  dtls: (b) => sniffDtls(b),
  ntp: (b) => sniffNtp(b),
  dns: (b) => sniffDnsPacket(b),
};

function enabled(all: readonly string[], names?: readonly string[]): string[] {
  return names?.length ? all.filter((n) => names.includes(n)) : [...all];
}

/**
 * Runs the stream sniffers named in `names` (all when empty) over `bytes`. Returns the first
 * result, `"need-more"` when any sniffer wants more bytes, or `null`.
 */
export function sniffStream(bytes: Uint8Array, names?: readonly string[]): SniffOutcome {
  let needMore = false;
  for (const name of enabled(STREAM_SNIFFERS, names)) {
    const r = STREAM[name](bytes);
    if (r === "need-more") needMore = true;
    else if (r) return r;
  }
  return needMore ? "need-more" : null;
}

/**
 * Runs the packet sniffers over one datagram. `ctx` carries QUIC CRYPTO data across the
 * datagrams of one flow.
 */
export function sniffPacket(
  packet: Uint8Array,
  names?: readonly string[],
  ctx: QuicSniffContext = newQuicSniffContext(),
): SniffOutcome {
  let needMore = false;
  for (const name of enabled(PACKET_SNIFFERS, names)) {
    const r = PACKET[name](packet, ctx);
    if (r === "need-more") needMore = true;
    else if (r) return r;
  }
  return needMore ? "need-more" : null;
}

/**
 * The protocol sing-box assumes for a UDP flow no sniffer recognised, by destination port
 * (53 dns, 123 ntp, 443 quic, 3478 stun), and `undefined` otherwise.
 */
export function protocolByPort(port: number): string | undefined {
  return ({ 53: "dns", 123: "ntp", 443: "quic", 3478: "stun" } as Record<number, string>)[port];
}

/** True for server-first protocols sing-box does not sniff (SMTP, IMAP, POP3 ports). */
export function skipSniffPort(port: number): boolean {
  return [25, 465, 587, 143, 993, 110, 995].includes(port);
}
