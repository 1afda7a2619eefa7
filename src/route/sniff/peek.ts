/**
 * The I/O side of the `sniff` action (sing-box `PeekStream` / `PeekPacket`): reads the first
 * bytes of a stream until the sniffers decide or the timeout passes, and hands back everything
 * read so the caller can replay it to the outbound.
 *
 * @module
 */
import type { Stream } from "../../adapter/types.ts";
import {
  DEFAULT_SNIFF_TIMEOUT_MS,
  newQuicSniffContext,
  type QuicSniffContext,
  sniffPacket,
  sniffStream,
} from "./mod.ts";
import type { SniffResult } from "./types.ts";

/** What peeking found. */
export interface PeekResult {
  /** The sniff result, if any sniffer recognised the bytes. */
  result?: SniffResult;
  /** Every byte read from the stream, to be written to the outbound first. */
  head: Uint8Array;
  /** True when the stream ended while sniffing. */
  eof: boolean;
  /**
   * Set when the timeout passed during a read: that read's bytes (or `null` at end of stream).
   * The caller writes `head`, then awaits this and writes its bytes, before relaying the rest.
   */
  pending?: Promise<Uint8Array | null>;
}

/**
 * Reads from `stream` until a sniffer answers, none wants more, `maxBytes` are buffered or
 * `timeoutMs` passes. Never throws for a slow or silent client; read errors propagate.
 */
export async function peekStream(
  stream: Stream,
  options: { sniffers?: readonly string[]; timeoutMs?: number; maxBytes?: number } = {},
): Promise<PeekResult> {
  const deadline = Date.now() + (options.timeoutMs || DEFAULT_SNIFF_TIMEOUT_MS);
  const max = options.maxBytes ?? 16 * 1024;
  let head = new Uint8Array(0);
  const buf = new Uint8Array(8192);
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { head, eof: false };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = stream.read(buf);
    const n = await Promise.race([
      read,
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
    ]).finally(() => clearTimeout(timer));
    if (n === "timeout") {
      // The read still owns `buf`; its bytes are handed over when it lands.
      return { head, eof: false, pending: read.then((k) => (k === null ? null : buf.slice(0, k))) };
    }
    if (n === null) return { ...outcome(head, options.sniffers), head, eof: true };
    const next = new Uint8Array(head.length + n);
    next.set(head);
    next.set(buf.subarray(0, n), head.length);
    head = next;
    const r = sniffStream(head, options.sniffers);
    if (r === null) return { head, eof: false };
    if (r !== "need-more") return { result: r, head, eof: false };
    if (head.length >= max) return { head, eof: false };
  }
}

function outcome(head: Uint8Array, sniffers?: readonly string[]): { result?: SniffResult } {
  const r = sniffStream(head, sniffers);
  return r && r !== "need-more" ? { result: r } : {};
}

/** Sniffs the first datagram(s) of a packet flow; pass the same `ctx` for later datagrams. */
export function peekPacket(
  data: Uint8Array,
  options: { sniffers?: readonly string[]; ctx?: QuicSniffContext } = {},
): SniffResult | "need-more" | undefined {
  const r = sniffPacket(data, options.sniffers, options.ctx ?? newQuicSniffContext());
  return r === null ? undefined : r;
}
