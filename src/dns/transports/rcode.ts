/**
 * The legacy `rcode://` server (`rcode://refused` and friends): answers every query with a fixed
 * RCODE and no records.
 *
 * @module
 */
import { decodeMessage, encodeMessage, fixedResponseStatus } from "../message.ts";
import type { DnsTransport } from "../transport.ts";
import { RCODE } from "../wire.ts";

/** Host part of `rcode://…` → RCODE. */
export const LEGACY_RCODES: Record<string, number> = {
  success: RCODE.NOERROR,
  format_error: RCODE.FORMERR,
  server_failure: RCODE.SERVFAIL,
  name_error: RCODE.NXDOMAIN,
  not_implemented: RCODE.NOTIMP,
  refused: RCODE.REFUSED,
};

/** A server that answers with one RCODE. */
export class RcodeTransport implements DnsTransport {
  readonly type: string = "rcode";
  readonly tag: string;
  readonly rcode: number;

  constructor(tag: string, rcode: number) {
    this.tag = tag;
    this.rcode = rcode;
  }

  exchange(query: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(encodeMessage(fixedResponseStatus(decodeMessage(query), this.rcode)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
