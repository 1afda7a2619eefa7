/**
 * Closing the connections a group opened when its choice changes (sing-box
 * `common/interrupt`). Connections the router relays for inbounds are "external" (their dial
 * carries `DialOptions.metadata`) and closed only with `interrupt_exist_connections`;
 * connections other parts open through the group (DNS over a detour) are always closed.
 *
 * The group keeps weak references, so streams need no wrapper (the relay keeps its
 * `Deno.TcpConn` fast path) and finished connections are collected normally; closing one that
 * already ended is a no-op.
 *
 * @module
 */

/** Anything with `close()`: a stream or a packet connection. */
export interface Closable {
  close(): void;
}

/** The connections one group opened. */
export class InterruptGroup {
  #refs = new Set<WeakRef<Closable>>();
  #external = new WeakMap<Closable, boolean>();
  #pruneAt = 64;

  /**
   * Remembers `conn` and returns it unchanged.
   * @param external true for a connection the router relays for an inbound
   */
  track<T extends Closable>(conn: T, external: boolean): T {
    this.#external.set(conn, external);
    this.#refs.add(new WeakRef(conn));
    if (this.#refs.size >= this.#pruneAt) {
      for (const r of this.#refs) if (r.deref() === undefined) this.#refs.delete(r);
      this.#pruneAt = Math.max(64, this.#refs.size * 2);
    }
    return conn;
  }

  /**
   * Closes the tracked internal connections, and the external ones too when `external` is true.
   * @returns how many connections were closed
   */
  interrupt(external: boolean): number {
    let n = 0;
    for (const r of this.#refs) {
      const conn = r.deref();
      if (conn === undefined) {
        this.#refs.delete(r);
        continue;
      }
      if (!external && this.#external.get(conn)) continue;
      this.#refs.delete(r);
      try {
        conn.close();
      } catch { /* already closed */ }
      n++;
    }
    return n;
  }

  /** Connections tracked and not yet collected or interrupted (for tests). */
  get size(): number {
    let n = 0;
    for (const r of this.#refs) if (r.deref() !== undefined) n++;
    return n;
  }
}
