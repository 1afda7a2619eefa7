/**
 * The server side of the envelope as a sans-I/O state machine (paniq.md §5.1): per-peer
 * preamble tracking (junk, signatures, initiation with MAC1 and encrypted timestamp),
 * rate limiting, skew and replay checks, then transport frames for ready peers.
 *
 * Time is always an argument (`nowMs`, epoch milliseconds). Output is a {@linkcode ServerEvent}
 * the caller acts on; nothing here touches a socket.
 *
 * Deliberate divergences from Go (wire behaviour unchanged):
 * - peers whose preamble went idle beyond `handshake_timeout` are garbage-collected by
 *   {@linkcode ServerEnvelope.collect}, and the I/O layer calls {@linkcode ServerEnvelope.forget}
 *   when a ready peer's QUIC connection ends, so the peer map is bounded (Go's grows forever);
 * - after `forget`, the same ip:port may complete a new preamble;
 * - an accepted encrypted timestamp must be within `skew_hard_seconds` of the server clock and
 *   its (ephemeral key, nonce) must not have been accepted before from any peer, so a captured
 *   initiation cannot be replayed from another address (Go only compares per ip:port, §12.3).
 *   Go clients always send fresh ones, so they are unaffected.
 *
 * @module
 */
import { validateSignature } from "./chain.ts";
import { MAC1_SIZE, MessageType } from "./constants.ts";
import { parseEncryptedTimestamp } from "./encrypted_timestamp.ts";
import { verifyMac1 } from "./mac1.ts";
import type { EnvelopeCounters } from "./metrics.ts";
import type { ResolvedServer } from "./profile.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { ReplayCache, replayKey } from "./replay_cache.ts";
import { TAI64N_BASE, tai64nAfter } from "./tai64n.ts";
import { TransportCodec } from "./transport_codec.ts";

/** Why a datagram was dropped (the Go log reasons). */
export type DropReason =
  | "rate_limit"
  | "signature_mismatch"
  | "signature_invalid"
  | "bad_initiation"
  | "mac1_invalid"
  | "timestamp_invalid"
  | "legacy_timestamp_missing"
  | "replay_reject"
  | "decode_failure";

/** What the caller must do with a datagram. */
export type ServerEvent =
  /** A preamble packet was accepted; nothing to send. */
  | { kind: "preamble" }
  /** The preamble completed: send `response` to the peer; it is ready for transport. */
  | { kind: "ready"; response: Uint8Array }
  /** A QUIC packet from a ready peer. */
  | { kind: "transport"; inner: Uint8Array }
  /** Dropped (already counted). `detail` is for rate-limited logging. */
  | { kind: "drop"; reason: DropReason | "transport"; detail: string };

interface PeerState {
  junkRemaining: number;
  sigIndex: number;
  sigTimestamp?: number;
  lastEncTs?: Uint8Array;
  encTsKey?: string;
  ready: boolean;
  lastSeenMs: number;
  codec?: TransportCodec;
}

/** The server envelope for one listening socket. */
export class ServerEnvelope {
  readonly cfg: ResolvedServer;
  readonly counters: EnvelopeCounters;
  readonly #peers = new Map<string, PeerState>();
  readonly #rateLimiter?: RateLimiter;
  readonly #replayCache: ReplayCache;
  /** (ephemeral key, nonce) of accepted encrypted timestamps. */
  readonly #encTsSeen: ReplayCache;
  #lastClockCheck = 0;

  constructor(cfg: ResolvedServer, counters: EnvelopeCounters) {
    this.cfg = cfg;
    this.counters = counters;
    if (cfg.rateLimitPps > 0) this.#rateLimiter = new RateLimiter(cfg.rateLimitPps, cfg.rateLimitBurst);
    this.#replayCache = new ReplayCache(cfg.replayCacheSize);
    this.#encTsSeen = new ReplayCache(cfg.replayCacheSize);
  }

  /** Number of tracked peers (preamble and ready). */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** True if `peer` finished its preamble. */
  isReady(peer: string): boolean {
    return this.#peers.get(peer)?.ready ?? false;
  }

  /** Forgets a peer (its QUIC connection ended). */
  forget(peer: string): void {
    this.#peers.delete(peer);
  }

  /** Drops preamble states idle for longer than the handshake timeout. */
  collect(nowMs: number): void {
    for (const [k, s] of this.#peers) {
      if (!s.ready && nowMs - s.lastSeenMs > this.cfg.handshakeTimeoutMs) this.#peers.delete(k);
    }
  }

  /**
   * Handles one datagram from `peer` (`ip:port`); `ip` keys the rate limiter.
   */
  handleDatagram(nowMs: number, peer: string, ip: string, data: Uint8Array): ServerEvent {
    let state = this.#peers.get(peer);
    if (!state) {
      state = this.#fresh(nowMs);
      this.#peers.set(peer, state);
    }
    if (state.ready) {
      const inner = state.codec!.decode(data);
      return inner
        ? { kind: "transport", inner }
        : { kind: "drop", reason: "transport", detail: "transport frame" };
    }
    this.counters.udp_bytes_in += data.length;
    if (nowMs - state.lastSeenMs > this.cfg.handshakeTimeoutMs) this.#reset(state, nowMs);
    return this.#preamble(state, nowMs, ip, data);
  }

  /** Frames a QUIC packet for a ready peer; `null` if the peer is unknown or it does not fit. */
  encodeTransport(peer: string, inner: Uint8Array): Uint8Array | null {
    const s = this.#peers.get(peer);
    if (!s?.ready) return null;
    return s.codec!.encode(inner);
  }

  /**
   * The transport codec of a ready peer (`null` otherwise), for I/O layers that encode and decode
   * a ready peer's frames directly: `codec.decode(data)` is what {@linkcode handleDatagram} does
   * for a ready peer, `codec.encodeInto` what {@linkcode encodeTransport} does. Invalid after
   * {@linkcode forget}.
   */
  transportCodec(peer: string): TransportCodec | null {
    const s = this.#peers.get(peer);
    return s?.ready ? s.codec! : null;
  }

  #fresh(nowMs: number): PeerState {
    return { junkRemaining: this.cfg.profile.obfuscation.jc, sigIndex: 0, ready: false, lastSeenMs: nowMs };
  }

  #reset(s: PeerState, nowMs: number): void {
    Object.assign(s, this.#fresh(nowMs), {
      sigTimestamp: undefined,
      lastEncTs: undefined,
      encTsKey: undefined,
      codec: undefined,
    });
  }

  #drop(s: PeerState, nowMs: number, reason: DropReason, detail: string): ServerEvent {
    this.#reset(s, nowMs);
    return { kind: "drop", reason, detail };
  }

  #preamble(s: PeerState, nowMs: number, ip: string, data: Uint8Array): ServerEvent {
    const c = this.counters;
    const cfg = this.cfg;
    s.lastSeenMs = nowMs;
    if (this.#rateLimiter && !this.#rateLimiter.allow(ip, nowMs)) {
      c.rate_limit++;
      return this.#drop(s, nowMs, "rate_limit", "rate limit");
    }
    if (s.junkRemaining > 0) {
      s.junkRemaining--;
      c.junk++;
      return { kind: "preamble" };
    }
    const chains = cfg.framer.chains;
    if (s.sigIndex < chains.length) {
      const chain = chains[s.sigIndex];
      if (data.length !== chain.length) {
        c.sig_mismatch++;
        return this.#drop(s, nowMs, "signature_mismatch", "signature length mismatch");
      }
      if (cfg.signatureValidate) {
        const info = validateSignature(chain, data);
        if (!info) {
          c.sig_invalid++;
          return this.#drop(s, nowMs, "signature_invalid", "signature content invalid");
        }
        if (info.timestamp !== undefined) s.sigTimestamp = info.timestamp;
      }
      s.sigIndex++;
      c.signatures++;
      return { kind: "preamble" };
    }
    const frame = cfg.framer.decodeFrame(data);
    if (!frame || frame.type !== MessageType.Initiation) {
      c.bad_init++;
      return this.#drop(s, nowMs, "bad_initiation", "invalid initiation");
    }
    const payload = frame.payload;
    let body = payload;
    if (cfg.mac1Key) {
      if (
        payload.length < MAC1_SIZE ||
        !verifyMac1(cfg.mac1Key, data, cfg.framer.overhead(MessageType.Initiation))
      ) {
        c.mac1_invalid++;
        return this.#drop(s, nowMs, "mac1_invalid", "mac1 invalid");
      }
      body = payload.subarray(0, payload.length - MAC1_SIZE);
    }
    let encTs = false;
    if (cfg.encryptedTimestamp && cfg.privateKey) {
      const r = parseEncryptedTimestamp(body, cfg.privateKey);
      if (r.kind === "invalid") {
        c.ts_invalid++;
        return this.#drop(s, nowMs, "timestamp_invalid", "encrypted timestamp decrypt failed");
      }
      if (r.kind === "valid") {
        if (s.lastEncTs && !tai64nAfter(r.stamp, s.lastEncTs)) {
          c.ts_invalid++;
          return this.#drop(s, nowMs, "timestamp_invalid", "encrypted timestamp replay");
        }
        const seconds = Number(
          new DataView(r.stamp.buffer, r.stamp.byteOffset, 8).getBigUint64(0) - TAI64N_BASE,
        );
        if (Math.abs(Math.floor(nowMs / 1000) - seconds) > cfg.skewHardS) {
          c.ts_invalid++;
          return this.#drop(s, nowMs, "timestamp_invalid", "encrypted timestamp skew hard");
        }
        if (this.#encTsSeen.has(encTsKey(body))) {
          c.replay_reject++;
          return this.#drop(s, nowMs, "replay_reject", "encrypted timestamp replayed");
        }
        s.lastEncTs = r.stamp;
        s.encTsKey = encTsKey(body);
        encTs = true;
      }
    }
    if (cfg.requireEncryptedTimestamp && !encTs) {
      c.ts_invalid++;
      return this.#drop(s, nowMs, "timestamp_invalid", "encrypted timestamp missing");
    }
    if (!encTs) {
      if (cfg.requireTimestamp && s.sigTimestamp === undefined) {
        if (!this.#legacyAllowed(nowMs)) {
          c.ts_invalid++;
          return this.#drop(s, nowMs, "timestamp_invalid", "timestamp missing");
        }
        c.legacy_missing++;
      } else if (s.sigTimestamp !== undefined) {
        const skew = Math.abs(Math.floor(nowMs / 1000) - s.sigTimestamp);
        if (skew > cfg.skewHardS) {
          c.ts_invalid++;
          return this.#drop(s, nowMs, "timestamp_invalid", "timestamp skew hard");
        }
        if (this.#clockJumped(nowMs)) this.#replayCache.reset();
        const offset = cfg.framer.overhead(MessageType.Initiation);
        const extra = cfg.mac1Key && offset + MAC1_SIZE <= data.length
          ? data.subarray(offset, offset + MAC1_SIZE)
          : new Uint8Array(0);
        const { replayed, evicted } = this.#replayCache.seen(replayKey(s.sigTimestamp, payload, extra));
        c.replay_evict += evicted;
        if (replayed) {
          c.replay_reject++;
          return this.#drop(s, nowMs, "replay_reject", "replay detected");
        }
      }
    }
    return this.#markReady(s);
  }

  #markReady(s: PeerState): ServerEvent {
    s.ready = true;
    if (s.encTsKey) {
      const { evicted } = this.#encTsSeen.seen(s.encTsKey);
      this.counters.replay_evict += evicted;
    }
    s.codec = new TransportCodec({
      framer: this.cfg.framer,
      padding: this.cfg.padding,
      maxPacketSize: this.cfg.maxPacketSize,
      transportReplay: this.cfg.transportReplay,
      replayLimit: this.cfg.replayLimit,
      counters: this.counters,
    });
    const response = this.cfg.framer.encodeFrame(MessageType.Response, new Uint8Array(0));
    this.counters.udp_bytes_out += response.length;
    return { kind: "ready", response };
  }

  #legacyAllowed(nowMs: number): boolean {
    if (this.cfg.requireEncryptedTimestamp || !this.cfg.legacyModeEnabled) return false;
    return this.cfg.legacySunsetMs === undefined || nowMs <= this.cfg.legacySunsetMs;
  }

  #clockJumped(nowMs: number): boolean {
    if (this.#lastClockCheck === 0) {
      this.#lastClockCheck = nowMs;
      return false;
    }
    const diff = nowMs - this.#lastClockCheck;
    this.#lastClockCheck = nowMs;
    return diff < 0 || diff > this.cfg.replayWindowS * 2000;
  }
}

function encTsKey(body: Uint8Array): string {
  let k = "";
  for (let i = 1; i < 57; i++) k += String.fromCharCode(body[i]);
  return k;
}
