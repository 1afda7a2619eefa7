/**
 * The one shared poller: every FFI fd (raw sockets, packet sockets, TUN, pcap selectable fds)
 * waits in a single nonblocking `poll()` together with an eventfd. Registering or removing an fd
 * writes to the eventfd so the pending poll returns and the set is rebuilt. Callbacks run on the JS
 * thread and must drain their fd synchronously (level-triggered).
 *
 * Deno runs nonblocking FFI calls on its blocking pool (32 threads, shared with file I/O), so
 * there is exactly one such call in flight per JS thread, never one per socket; each Worker that
 * imports this module has its own instance (module state is per isolate). While fds keep being
 * ready the loop re-polls synchronously for up to {@linkcode Poller.sliceMs} instead of paying a
 * blocking-pool round trip per wake-up.
 * The loop stops when the last fd is removed, so an idle process can exit.
 *
 * @example Usage
 * ```ts ignore
 * const reg = getPoller().register(fd, C.POLLIN, (revents) => drain(fd));
 * // ...
 * reg.close();
 * ```
 * @module
 */
import { C, libc } from "./libc.ts";
import { check } from "./os_error.ts";

/** Called with the `revents` bits when the fd is ready. */
export type ReadyCallback = (revents: number) => void;

/** A registered fd. `close()` removes it (the caller closes the fd afterwards). */
export interface Registration {
  /** The registered fd. */
  readonly fd: number;
  /** Changes the poll interest bits. */
  setEvents(events: number): void;
  /** Removes the fd from the poll set (idempotent). */
  close(): void;
}

interface Entry {
  fd: number;
  events: number;
  cb: ReadyCallback;
  active: boolean;
}

/** A poll(2) loop over registered fds plus an eventfd for wake-up. */
export class Poller {
  #entries = new Set<Entry>();
  #efd = -1;
  #running: Promise<void> | null = null;
  #wakeBuf = new Uint8Array(8);
  /** The fd set changed since {@linkcode #pollSet} was built. */
  #dirty = true;
  #list: Entry[] = [];
  #pollBuf = new Uint8Array(8);
  #pollView = new DataView(this.#pollBuf.buffer);
  #pollCount = 1n;
  /** Longest single poll, in ms (a safety net; the eventfd normally wakes it). */
  maxWaitMs = 10_000;
  /**
   * After a round of callbacks the loop polls again synchronously (0.7 µs) instead of going back
   * to the blocking pool (≈ 40 µs of CPU per round trip), blocking the thread for up to this many
   * ms while waiting. 0 (the default): a non-blocking check only, so an event loop with other work
   * is never held. A thread that does nothing but this I/O (the paniq shim thread) sets 1.
   */
  syncWaitMs = 0;
  /** Longest run of callback rounds before the loop yields to the event loop (timers, messages), ms. */
  sliceMs = 2;
  /** Counters for profiling: polls awaited on the blocking pool, synchronous re-polls. */
  readonly stats = { asyncPolls: 0, syncPolls: 0 };

  /** Registers `fd` with interest `events` (POLLIN, POLLOUT…; POLLERR/POLLHUP always reported). */
  register(fd: number, events: number, cb: ReadyCallback): Registration {
    const e: Entry = { fd, events, cb, active: true };
    this.#entries.add(e);
    this.#changed();
    this.#ensureLoop();
    return {
      fd,
      setEvents: (ev) => {
        e.events = ev;
        this.#changed();
      },
      close: () => {
        if (!e.active) return;
        e.active = false;
        this.#entries.delete(e);
        this.#changed();
      },
    };
  }

  /** Number of registered fds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Resolves when the loop has stopped (no fds left). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Interrupts the pending poll so the fd set is rebuilt. */
  wake(): void {
    if (this.#efd < 0) return;
    const one = new Uint8Array(8);
    one[0] = 1;
    libc().write(this.#efd, one, 8n);
  }

  #changed(): void {
    this.#dirty = true;
    this.wake();
  }

  #ensureLoop(): void {
    if (this.#running) return;
    if (this.#efd < 0) this.#efd = check("eventfd", libc().eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC));
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      if (this.#entries.size > 0) this.#ensureLoop();
    });
  }

  /** Rebuilds the pollfd array (eventfd first) from the registered set. */
  #pollSet(): void {
    this.#dirty = false;
    const list = this.#list = [...this.#entries];
    if (this.#pollBuf.length !== 8 * (list.length + 1)) {
      this.#pollBuf = new Uint8Array(8 * (list.length + 1));
      this.#pollView = new DataView(this.#pollBuf.buffer);
    }
    const v = this.#pollView;
    v.setInt32(0, this.#efd, true);
    v.setInt16(4, C.POLLIN, true);
    for (let i = 0; i < list.length; i++) {
      v.setInt32(8 * (i + 1), list[i].fd, true);
      v.setInt16(8 * (i + 1) + 4, list[i].events, true);
    }
    this.#pollCount = BigInt(list.length + 1);
  }

  async #loop(): Promise<void> {
    const lc = libc();
    while (this.#entries.size > 0) {
      if (this.#dirty) this.#pollSet();
      this.stats.asyncPolls++;
      let n = await lc.poll_nb(this.#pollBuf, this.#pollCount, this.maxWaitMs);
      const start = performance.now();
      // Dispatch, then re-poll synchronously while fds stay ready, up to one time slice.
      while (n > 0) {
        this.#dispatch();
        if (this.#dirty || performance.now() - start >= this.sliceMs) break;
        this.stats.syncPolls++;
        n = lc.poll(this.#pollBuf, this.#pollCount, this.syncWaitMs);
      }
    }
  }

  /** Runs the callbacks of the ready fds of the last poll. */
  #dispatch(): void {
    const v = this.#pollView;
    const list = this.#list;
    if (v.getInt16(6, true) !== 0) {
      libc().read(this.#efd, this.#wakeBuf, 8n);
      v.setInt16(6, 0, true);
    }
    for (let i = 0; i < list.length; i++) {
      const rev = v.getInt16(8 * (i + 1) + 6, true);
      const e = list[i];
      if (rev === 0 || !e.active) continue;
      try {
        e.cb(rev);
      } catch (err) {
        console.error(`poller: callback for fd ${e.fd} threw: ${err}`);
      }
      if (rev & C.POLLNVAL) {
        e.active = false;
        this.#entries.delete(e);
        this.#dirty = true;
      }
    }
  }
}

let shared: Poller | undefined;

/** Returns the process-wide poller. */
export function getPoller(): Poller {
  return shared ??= new Poller();
}
