/**
 * The `paniq` outbound: every TCP connection the router sends here becomes one stream on a
 * pooled paniq QUIC connection (paniq.md §6.3). UDP is not supported by the protocol (§6.5).
 *
 * @module
 */
import { z } from "zod";
import type { OutboundContext } from "../../adapter/registry.ts";
import type { DialOptions, Outbound, PacketConn, Socksaddr, Stream } from "../../adapter/types.ts";
import { PaniqClient } from "../../transport/paniq/client.ts";
import { PaniqMetrics } from "./metrics.ts";
import { loadProfile, profileFields } from "./options.ts";
import { resolveClient } from "./profile.ts";
import { CountingStream } from "../../transport/paniq/counting_stream.ts";

/** Options of a `paniq` outbound. */
export const paniqOutboundSchema = z.strictObject({
  type: z.literal("paniq"),
  tag: z.string().optional(),
  ...profileFields,
  /** Overrides the profile's `proxy_addr`. */
  server: z.string().optional(),
});

/** Parsed options. */
export type PaniqOutboundOptions = z.output<typeof paniqOutboundSchema>;

/** Dials through a paniq server. */
export class PaniqOutbound implements Outbound {
  readonly type = "paniq";
  readonly tag: string;
  readonly network = ["tcp"] as const;
  readonly metrics = new PaniqMetrics("socks");
  readonly #client: PaniqClient;

  constructor(ctx: OutboundContext, options: PaniqOutboundOptions) {
    this.tag = ctx.tag;
    const profile = loadProfile(options);
    if (options.server) profile.proxy_addr = options.server;
    this.#client = new PaniqClient(resolveClient(profile), { metrics: this.metrics, log: ctx.logger });
  }

  async dial(destination: Socksaddr, _options?: DialOptions): Promise<Stream> {
    // Counted as the Go socks daemon counts its sessions (paniq.md §9): `reconnects` per accepted
    // connection, `hs_ok`/`hs_fail` per proxy setup, `active` while open; bytes from the local
    // side are `bytes_in`, bytes back to it `bytes_out`.
    const m = this.metrics;
    m.reconnects++;
    let stream: Stream;
    try {
      stream = await this.#client.open(destination);
    } catch (e) {
      m.hs_fail++;
      throw e;
    }
    m.hs_ok++;
    m.active++;
    return new CountingStream(stream, m, { read: "bytes_out", write: "bytes_in" }, () => m.active--);
  }

  listenPacket(_destination: Socksaddr, _options?: DialOptions): Promise<PacketConn> {
    return Promise.reject(new Error("paniq outbound: UDP is not supported by the paniq protocol"));
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}
