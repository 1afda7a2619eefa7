/**
 * Pure parsers for the Linux files the process searcher reads (no I/O here): socket tables
 * `/proc/net/{tcp,tcp6,udp,udp6}` (proc(5): `sl local_address rem_address st … uid timeout
 * inode`, addresses as hex words in host byte order, ports as big-endian hex), `/proc/<pid>/fd/*`
 * link targets (`socket:[<inode>]`) and `/etc/passwd` (passwd(5)).
 *
 * @module
 */
import type { Socksaddr } from "../../adapter/types.ts";
import { formatIp, parseIp, unmapIp } from "../../common/ip.ts";

/** One row of a `/proc/net` socket table. */
export interface ProcSocket {
  /** Local address, canonical (IPv4-mapped IPv6 unmapped). */
  local: Socksaddr;
  remote: Socksaddr;
  /** Kernel socket state (`0A` = TCP LISTEN, `01` = ESTABLISHED). */
  state: number;
  uid: number;
  /** Socket inode; 0 for sockets no process holds (TIME_WAIT). */
  inode: number;
}

/** True when this machine stores words little-endian (the order `/proc/net` prints them in). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Decodes a `/proc/net` address (`0100007F:0035`, or 32 hex digits for IPv6).
 * @returns the canonical address, or null when the text is malformed
 */
export function parseProcAddress(text: string, littleEndian = HOST_LITTLE_ENDIAN): Socksaddr | null {
  const colon = text.indexOf(":");
  const hex = text.slice(0, colon);
  const portHex = text.slice(colon + 1);
  if (
    colon < 0 || (hex.length !== 8 && hex.length !== 32) || portHex.length !== 4 ||
    !/^[0-9A-Fa-f]+$/.test(hex + portHex)
  ) {
    return null;
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < bytes.length; w += 4) {
    for (let i = 0; i < 4; i++) {
      const v = parseInt(hex.slice((w + i) * 2, (w + i) * 2 + 2), 16);
      bytes[littleEndian ? w + 3 - i : w + i] = v;
    }
  }
  return { host: formatIp(unmapIp(bytes)), port: parseInt(portHex, 16) };
}

/**
 * Parses a whole socket table (header line skipped, malformed rows ignored).
 * @param littleEndian byte order of the machine that produced the text
 */
export function parseProcNet(text: string, littleEndian = HOST_LITTLE_ENDIAN): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !f[0]!.endsWith(":")) continue;
    const local = parseProcAddress(f[1]!, littleEndian);
    const remote = parseProcAddress(f[2]!, littleEndian);
    const uid = Number(f[7]);
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    out.push({ local, remote, state: parseInt(f[3]!, 16), uid, inode });
  }
  return out;
}

function canonical(host: string): string | null {
  const b = parseIp(host);
  return b ? formatIp(unmapIp(b)) : null;
}

const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * The socket whose local end is `source` (the connection's client side): an exact address match
 * first, else a socket bound to the wildcard address on that port (an unconnected UDP socket).
 * Rows without an inode are skipped.
 */
export function findSocket(rows: readonly ProcSocket[], source: Socksaddr): ProcSocket | undefined {
  const host = canonical(source.host);
  if (host === null) return undefined;
  let wildcard: ProcSocket | undefined;
  for (const r of rows) {
    if (r.inode === 0 || r.local.port !== source.port) continue;
    if (r.local.host === host) return r;
    if (WILDCARDS.has(r.local.host)) wildcard ??= r;
  }
  return wildcard;
}

/** The inode of an fd link target `socket:[12345]`, or undefined for anything else. */
export function parseSocketLink(target: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(target);
  return m ? Number(m[1]) : undefined;
}

/** User id → name from `/etc/passwd` text (the first entry of an id wins). */
export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3) continue;
    const uid = Number(f[2]);
    if (f[0] && Number.isInteger(uid) && f[2] !== "" && !out.has(uid)) out.set(uid, f[0]);
  }
  return out;
}
