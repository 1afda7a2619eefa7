/** Shared helper for rule tests: connection metadata from short `host:port` strings. */
import type { Metadata } from "../../src/adapter/types.ts";

/** Metadata of a TCP connection on inbound `in` (mixed); `dest`/`src` as `host:port`. */
export function meta(p: Partial<Metadata> & { dest?: string; src?: string } = {}): Metadata {
  const [dh, dp] = (p.dest ?? "example.com:443").split(/:(?=\d+$)/);
  const [sh, sp] = (p.src ?? "127.0.0.1:40000").split(/:(?=\d+$)/);
  return {
    inbound: "in",
    inboundType: "mixed",
    network: "tcp",
    source: { host: sh!, port: Number(sp) },
    destination: { host: dh!, port: Number(dp) },
    ...p,
  };
}
