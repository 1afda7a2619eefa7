/**
 * Finds the local process that owns a connection's client socket on Linux (sing-box
 * `common/process/searcher_linux.go`, here through `/proc` only): the socket row in
 * `/proc/net/{tcp,tcp6,udp,udp6}` by source address and port gives the inode and uid, then a scan of
 * `/proc/<pid>/fd` for `socket:[inode]` gives the pid, and `/proc/<pid>/exe` the executable. Used by
 * the router when a rule has `process_name`, `process_path(_regex)`, `user` or `user_id`, or
 * `route.find_process` is on. Parsing lives in {@linkcode ./proc_net.ts}.
 *
 * Cost on the test machine (≈120 processes, ≈300 TCP sockets): ≈6 ms per lookup, almost all of it
 * the kernel formatting `/proc/net/tcp*` (read asynchronously); sing-box's netlink `sock_diag`
 * query would avoid that and is the next step if lookups show up in profiles.
 *
 * @module
 */
import type { Network, ProcessInfo, Socksaddr } from "../../adapter/types.ts";
import { formatIp, parseIp, unmapIp } from "../../common/ip.ts";
import { findSocket, parsePasswd, parseProcNet, parseSocketLink } from "./proc_net.ts";

/** Looks processes up by the source address of a connection. */
export interface ProcessSearcher {
  /**
   * The process whose socket has `source` as local address, or undefined when the source is not
   * an address of this machine or no socket matches. A socket whose process is gone yields a
   * result with `pid` 0 and an empty `path` (the uid is still known).
   */
  find(network: Network, source: Socksaddr): Promise<ProcessInfo | undefined>;
}

/** Options of {@linkcode ProcSearcher}; the defaults read the real system. */
export interface ProcSearcherOptions {
  /** @default {"/proc"} */
  procRoot?: string;
  /** @default {"/etc/passwd"} */
  passwdPath?: string;
  /** Addresses of this machine (besides loopback). @default {Deno.networkInterfaces} */
  localAddresses?: () => string[];
}

/** How many recently matched pids are tried before a full scan. */
const RECENT_PIDS = 8;

function canonical(host: string): string | undefined {
  const b = parseIp(host);
  return b ? formatIp(unmapIp(b)) : undefined;
}

function isLoopback(host: string): boolean {
  return host === "::1" || host.startsWith("127.");
}

/** {@linkcode ProcessSearcher} over `/proc` (Linux). */
export class ProcSearcher implements ProcessSearcher {
  readonly #root: string;
  readonly #passwd: string;
  readonly #local: () => string[];
  /** Pids that owned recent matches, newest first: clients open many connections in a row. */
  #recent: number[] = [];

  constructor(options: ProcSearcherOptions = {}) {
    this.#root = options.procRoot ?? "/proc";
    this.#passwd = options.passwdPath ?? "/etc/passwd";
    this.#local = options.localAddresses ?? (() => Deno.networkInterfaces().map((i) => i.address));
  }

  async find(network: Network, source: Socksaddr): Promise<ProcessInfo | undefined> {
    const host = canonical(source.host);
    if (host === undefined) return undefined;
    if (!isLoopback(host) && !this.#local().some((a) => canonical(a) === host)) return undefined;
    const tables = network === "tcp" ? ["tcp", "tcp6"] : ["udp", "udp6"];
    let socket;
    for (const t of tables) {
      const text = await Deno.readTextFile(`${this.#root}/net/${t}`).catch(() => "");
      socket = findSocket(parseProcNet(text), { host, port: source.port });
      if (socket) break;
    }
    if (!socket) return undefined;
    const pid = this.#pidOf(socket.inode, socket.uid);
    const path = pid ? await Deno.readLink(`${this.#root}/${pid}/exe`).catch(() => "") : "";
    const users = parsePasswd(await Deno.readTextFile(this.#passwd).catch(() => ""));
    return { pid: pid ?? 0, path, user: users.get(socket.uid), userId: socket.uid };
  }

  /**
   * Scans the fds of the processes owned by `uid` for the socket: the pids of recent matches
   * first, then every pid newest first (clients are usually recent). Synchronous calls: a few
   * hundred cheap syscalls cost less than as many event-loop round trips.
   */
  #pidOf(inode: number, uid: number): number | undefined {
    for (const pid of this.#recent) {
      if (this.#owns(pid, inode, uid)) return this.#remember(pid);
    }
    const pids: number[] = [];
    for (const entry of Deno.readDirSync(this.#root)) {
      if (/^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
    pids.sort((a, b) => b - a);
    for (const pid of pids) {
      if (!this.#recent.includes(pid) && this.#owns(pid, inode, uid)) return this.#remember(pid);
    }
    return undefined;
  }

  #remember(pid: number): number {
    this.#recent = [pid, ...this.#recent.filter((p) => p !== pid)].slice(0, RECENT_PIDS);
    return pid;
  }

  /** True when process `pid` runs as `uid` and holds `socket:[inode]`. */
  #owns(pid: number, inode: number, uid: number): boolean {
    const dir = `${this.#root}/${pid}`;
    try {
      if (Deno.statSync(dir).uid !== uid) return false;
      for (const fd of Deno.readDirSync(`${dir}/fd`)) {
        let target = "";
        try {
          target = Deno.readLinkSync(`${dir}/fd/${fd.name}`);
        } catch { /* fd closed meanwhile */ }
        if (parseSocketLink(target) === inode) return true;
      }
    } catch { /* the process exited or is not readable */ }
    return false;
  }
}
