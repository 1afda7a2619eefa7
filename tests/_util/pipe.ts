/**
 * In-memory stream pairs for protocol tests.
 * @module
 */
import type { Stream } from "../../src/adapter/types.ts";

/** A connected pair of in-memory streams. */
export function pipePair(): [Stream, Stream] {
  type End = { inbox: Uint8Array[]; wake: () => void; eof: boolean };
  const mk = (inbox: Uint8Array[], peer: () => End) => {
    let waiter: (() => void) | null = null;
    let closed = false;
    const self = {
      inbox,
      eof: false,
      wake: () => {
        const w = waiter;
        waiter = null;
        w?.();
      },
      stream: {
        async read(p: Uint8Array) {
          while (!inbox.length) {
            if (closed || self.eof) return null;
            await new Promise<void>((r) => waiter = r);
          }
          const h = inbox[0];
          const n = Math.min(h.length, p.length);
          p.set(h.subarray(0, n));
          if (n < h.length) inbox[0] = h.subarray(n);
          else inbox.shift();
          return n;
        },
        write(p: Uint8Array) {
          const o = peer();
          o.inbox.push(p.slice());
          o.wake();
          return Promise.resolve(p.length);
        },
        closeWrite: () => Promise.resolve(),
        close() {
          closed = true;
          self.wake();
          const o = peer();
          o.eof = true;
          o.wake();
        },
      } as Stream,
    };
    return self;
  };
  // deno-lint-ignore prefer-const
  let a: ReturnType<typeof mk>, b: ReturnType<typeof mk>;
  a = mk([], () => b);
  b = mk([], () => a);
  return [a.stream, b.stream];
}
