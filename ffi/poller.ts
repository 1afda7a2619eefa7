/**
 * The one shared poller: every FFI fd (raw sockets, packet sockets, TUN, pcap selectable fds)
 * waits in a single nonblocking `poll()` together with an eventfd. Registering or removing an fd
 * writes to the eventfd so the pending poll returns and the set is rebuilt. Callbacks run on the JS
 * thread and must drain their fd synchronously (level-triggered).
 *
 * Deno runs nonblocking FFI calls on its blocking pool (32 threads, shared with file I/O), so
 * there is exactly one such call in flight for the whole process, never one per socket.
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
  readonly fd: number;
  /** Changes the poll interest bits. */
  setEvents(events: number): void;
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
  /** Longest single poll, in ms (a safety net; the eventfd normally wakes it). */
  maxWaitMs = 10_000;

  /** Registers `fd` with interest `events` (POLLIN, POLLOUT…; POLLERR/POLLHUP always reported). */
  register(fd: number, events: number, cb: ReadyCallback): Registration {
    const e: Entry = { fd, events, cb, active: true };
    this.#entries.add(e);
    this.#ensureLoop();
    this.wake();
    return {
      fd,
      setEvents: (ev) => {
        e.events = ev;
        this.wake();
      },
      close: () => {
        if (!e.active) return;
        e.active = false;
        this.#entries.delete(e);
        this.wake();
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

  #ensureLoop(): void {
    if (this.#running) return;
    if (this.#efd < 0) this.#efd = check("eventfd", libc().eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC));
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      if (this.#entries.size > 0) this.#ensureLoop();
    });
  }

  async #loop(): Promise<void> {
    const lc = libc();
    while (this.#entries.size > 0) {
      const list = [...this.#entries];
      const buf = new Uint8Array(8 * (list.length + 1));
      const v = new DataView(buf.buffer);
      v.setInt32(0, this.#efd, true);
      v.setInt16(4, C.POLLIN, true);
      list.forEach((e, i) => {
        v.setInt32(8 * (i + 1), e.fd, true);
        v.setInt16(8 * (i + 1) + 4, e.events, true);
      });
      const n = await lc.poll_nb(buf, BigInt(list.length + 1), this.maxWaitMs);
      if (n <= 0) continue;
      if (v.getInt16(6, true) !== 0) lc.read(this.#efd, this.#wakeBuf, 8n);
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
        }
      }
    }
  }
}

let shared: Poller | undefined;

/** Returns the process-wide poller. */
export function getPoller(): Poller {
  return shared ??= new Poller();
}
