/**
 * Transport frames for one session (paniq.md §3.5): wraps a QUIC datagram as a type-4 frame
 * with the length prefix, optional counter and padding, and unwraps received frames through
 * the replay filter. Client: one per dial; server: one per ready peer.
 *
 * @module
 */
import { MessageType } from "./constants.ts";
import type { Framer } from "./framer.ts";
import type { EnvelopeCounters } from "./metrics.ts";
import { type PaddingChoice, type PaddingPolicy, selectPadding } from "./padding.ts";
import { ReplayFilter } from "./replay_window.ts";
import { locateInner, readCounter, transportHeaderSize, writeTransportPayload } from "./transport_payload.ts";

/** What the codec needs from the resolved profile. */
export interface TransportCodecOptions {
  framer: Framer;
  padding: PaddingPolicy;
  maxPacketSize: number;
  transportReplay: boolean;
  replayLimit: bigint;
  counters: EnvelopeCounters;
}

/** Encoder/decoder of one session's transport frames. */
export class TransportCodec {
  readonly #o: TransportCodecOptions;
  readonly #prefix: number;
  readonly #maxPayload: number;
  readonly #filter = new ReplayFilter();
  readonly #choice: PaddingChoice = { pad: 0, clamped: false };
  #sendCounter = 0n;
  /** Length of the inner packet found by the last successful {@linkcode decodeOffset}. */
  innerLength = 0;

  constructor(options: TransportCodecOptions) {
    this.#o = options;
    this.#prefix = options.framer.overhead(MessageType.Transport);
    this.#maxPayload = Math.max(0, options.maxPacketSize - this.#prefix);
  }

  /** Largest inner packet that fits without padding. */
  get maxInner(): number {
    return this.#maxPayload - transportHeaderSize(this.#o.transportReplay);
  }

  /** Frames `inner`; `null` (counted as size_violation/pad_drop) if it does not fit. */
  encode(inner: Uint8Array): Uint8Array | null {
    const size = this.#plan(inner);
    if (size < 0) return null;
    const out = new Uint8Array(size);
    this.#write(out, inner, size);
    return out;
  }

  /**
   * Frames `inner` into `out` (the caller's reused buffer) without allocating; returns the frame
   * length, or -1 (counted as for {@linkcode encode}) if it does not fit the envelope. Same bytes
   * and the same draws from the random source as {@linkcode encode}.
   *
   * @throws {RangeError} If `out` is shorter than the frame
   */
  encodeInto(out: Uint8Array, inner: Uint8Array): number {
    const size = this.#plan(inner);
    if (size < 0) return -1;
    if (out.length < size) {
      throw new RangeError(`frame of ${size} bytes does not fit the ${out.length}-byte buffer`);
    }
    this.#write(out, inner, size);
    return size;
  }

  #pad = 0;

  /** Picks the padding (counting failures); returns the frame size or -1. */
  #plan(inner: Uint8Array): number {
    const c = this.#o.counters;
    const base = transportHeaderSize(this.#o.transportReplay) + inner.length;
    const choice = inner.length === 0
      ? null
      : selectPadding(this.#o.padding, base, this.#maxPayload, this.#choice);
    if (!choice) {
      c.size_violation++;
      c.pad_drop++;
      return -1;
    }
    if (choice.clamped) c.pad_clamp++;
    this.#pad = choice.pad;
    return this.#prefix + base + choice.pad;
  }

  #write(out: Uint8Array, inner: Uint8Array, size: number): void {
    const c = this.#o.counters;
    this.#o.framer.writePrefix(MessageType.Transport, out);
    const counter = this.#o.transportReplay ? this.#sendCounter++ : null;
    writeTransportPayload(out, this.#prefix, inner, this.#pad, counter);
    c.udp_bytes_out += size;
    c.payload_bytes_out += inner.length;
    c.pad_out += this.#pad;
  }

  /** Unframes a datagram; `null` (counted) if it is not a valid, fresh transport frame. */
  decode(datagram: Uint8Array): Uint8Array | null {
    const o = this.decodeOffset(datagram);
    return o < 0 ? null : datagram.subarray(o, o + this.innerLength);
  }

  /**
   * {@linkcode decode} without allocating (unless `transport_replay` is on): returns where the
   * inner packet starts in `datagram`, its length in {@linkcode innerLength}; -1 (counted) if the
   * datagram is not a valid, fresh transport frame.
   */
  decodeOffset(datagram: Uint8Array): number {
    const c = this.#o.counters;
    c.udp_bytes_in += datagram.length;
    const type = this.#o.framer.frameType(datagram);
    if (type === 0) {
      c.decode_fail++;
      return -1;
    }
    if (type !== MessageType.Transport) {
      c.unexpected++;
      return -1;
    }
    const replay = this.#o.transportReplay;
    const o = locateInner(datagram, this.#prefix, replay);
    if (o < 0) {
      c.decode_fail++;
      c.pad_drop++;
      return -1;
    }
    if (replay && !this.#filter.validate(readCounter(datagram, this.#prefix), this.#o.replayLimit)) {
      c.transport_replay++;
      return -1;
    }
    const len = (datagram[o - 2] << 8) | datagram[o - 1];
    c.payload_bytes_in += len;
    c.pad_in += datagram.length - o - len;
    this.innerLength = len;
    return o;
  }
}
