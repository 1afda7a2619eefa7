/**
 * The sans-I/O probe codec contract: build the probe for a TTL, and match a captured packet back
 * to a TTL. The I/O driver owns sockets, clocks and RTTs.
 *
 * @module
 */
import type { ParsedPacket } from "../packets/frame.ts";

/** A captured reply attributed to a probe. RTT is added by the driver. */
export interface ProbeMatch {
  ttl: number;
  /** Address that answered (outer source). */
  ip: string;
  /** The reply came from the destination. */
  isDest: boolean;
}

/** Endpoints of one run. Addresses are canonical IP text; bytes are 4 or 16 long. */
export interface ProbeEndpoints {
  local: string;
  localBytes: Uint8Array;
  localPort: number;
  target: string;
  targetBytes: Uint8Array;
  targetPort: number;
}

/**
 * Builds probes and matches replies for one run. `match` returns null for packets that are not
 * ours (retry) and throws for fatal conditions (the run fails).
 */
export interface ProbeCodec {
  /** Probes may be in flight at once (parallel scheduler) or one at a time (serial). */
  readonly parallel: boolean;
  /** Returns the full IP packet (header included) for `ttl`. */
  buildProbe(ttl: number): Uint8Array;
  /** Attributes a captured packet to a TTL, or returns null when it is not a reply to this run. */
  match(p: ParsedPacket): ProbeMatch | null;
}
