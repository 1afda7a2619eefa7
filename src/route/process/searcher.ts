/**
 * Finds the local process that owns a connection's client socket on Linux (sing-box
 * `common/process/searcher_linux.go`, here through `/proc` only): the socket row in
 * `/proc/net/{tcp,tcp6,udp,udp6}` by source address and port gives the inode and uid, then a scan of
 * `/proc/<pid>/fd` for `socket:[inode]` gives the pid, and `/proc/<pid>/exe` the executable. Used by
 * the router when a rule has `process_name`, `process_path(_regex)`, `user` or `user_id`, or
 * `route.find_process` is on. Parsing lives in {@linkcode ./proc_net.ts}.
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
   * Scans the fds of the processes owned by `uid` for the socket, newest pid first (clients are
   * usually recent). Synchronous calls: a few hundred cheap syscalls cost less than as many
   * event-loop round trips.
   */
  #pidOf(inode: number, uid: number): number | undefined {
    const pids: number[] = [];
    for (const entry of Deno.readDirSync(this.#root)) {
      if (/^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
    pids.sort((a, b) => b - a);
    for (const pid of pids) {
      const dir = `${this.#root}/${pid}`;
      try {
        if (Deno.statSync(dir).uid !== uid) continue;
        for (const fd of Deno.readDirSync(`${dir}/fd`)) {
          let target = "";
          try {
            target = Deno.readLinkSync(`${dir}/fd/${fd.name}`);
          } catch { /* fd closed meanwhile */ }
          if (parseSocketLink(target) === inode) return pid;
        }
      } catch { /* the process exited or is not readable */ }
    }
    return undefined;
  }
}
