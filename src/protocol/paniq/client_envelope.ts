/**
 * The client side of the envelope, sans-I/O (paniq.md §3.2–3.4, §6.3): builds the preamble
 * (junk, signatures, one initiation per dial with encrypted timestamp and MAC1), recognises
 * the server's Response, and creates the transport codec for the session.
 *
 * @module
 */
import { MAC1_SIZE, MessageType } from "./constants.ts";
import { buildEncryptedTimestamp, type EncryptedTimestampOptions } from "./encrypted_timestamp.ts";
import { sealMac1 } from "./mac1.ts";
import type { EnvelopeCounters } from "./metrics.ts";
import type { ResolvedClient } from "./profile.ts";
import { tai64nFromMillis } from "./tai64n.ts";
import { TransportCodec } from "./transport_codec.ts";

/**
 * Builds the initiation frame: `[encrypted timestamp] [MAC1]`, framed as type 1, MAC1 over
 * the whole frame. Built once per dial and re-sent on every attempt, as Go does.
 */
export function buildInitiation(
  cfg: ResolvedClient,
  nowMs: number,
  options: EncryptedTimestampOptions = {},
): Uint8Array {
  const enc = cfg.encryptedTimestamp && cfg.serverPublicKey
    ? buildEncryptedTimestamp(cfg.serverPublicKey, tai64nFromMillis(nowMs), options)
    : new Uint8Array(0);
  const payload = new Uint8Array(enc.length + (cfg.mac1Key ? MAC1_SIZE : 0));
  payload.set(enc);
  const frame = cfg.framer.encodeFrame(MessageType.Initiation, payload);
  if (cfg.mac1Key) sealMac1(cfg.mac1Key, frame);
  return frame;
}

/** The junk then signature datagrams of one attempt, each to be followed by the pacing sleep. */
export function buildPreamble(cfg: ResolvedClient, nowMs: number): Uint8Array[] {
  return [...cfg.framer.junkDatagrams(), ...cfg.framer.signatureDatagrams(Math.floor(nowMs / 1000))];
}

/** True if `datagram` decodes as the server's Response (any type-2 frame). */
export function isResponse(cfg: ResolvedClient, datagram: Uint8Array): boolean {
  return cfg.framer.decodeFrame(datagram)?.type === MessageType.Response;
}

/** A fresh transport codec for a new session (counters start at 0). */
export function newClientCodec(cfg: ResolvedClient, counters: EnvelopeCounters): TransportCodec {
  return new TransportCodec({
    framer: cfg.framer,
    padding: cfg.padding,
    maxPacketSize: cfg.maxPacketSize,
    transportReplay: cfg.transportReplay,
    replayLimit: cfg.replayLimit,
    counters,
  });
}

/** The pause after each preamble datagram: `delay + uniform[0, jitter)` milliseconds. */
export function preamblePause(cfg: ResolvedClient, random: () => number = Math.random): number {
  if (cfg.preambleDelayMs <= 0 && cfg.preambleJitterMs <= 0) return 0;
  return cfg.preambleDelayMs + (cfg.preambleJitterMs > 0 ? Math.floor(random() * cfg.preambleJitterMs) : 0);
}
