/**
 * The Datadog `ddnpm` Windows kernel driver ABI (spec traceroute.md §10) and its device handle.
 *
 * - Device `\\.\ddnpm\transporthandle`, opened read/write with shared read/write.
 * - Filters: one `DeviceIoControl(0x12200c)` per 160-byte FilterDefinition (little-endian u64
 *   fields); the handle is reopened on every filter change so it only ever carries the current set.
 * - Reads: each completion holds a 72-byte FilterPacketHeader then the packet from its IP header;
 *   the reference posts 800 overlapped reads of 150 bytes (so at most 78 bytes of packet).
 * - Writes: `WriteFile(handle, raw IP packet)`.
 *
 * The layouts are unit-tested on Linux; the device class runs only on Windows.
 *
 * @module
 */

/** FilterVersion: the driver package's `Signature` (pinned agent version; see spec §14.6). */
export const DDNPM_SIGNATURE = 0xddfd00000018n;
export const FILTER_DEFINITION_SIZE = 0xa0;
export const FILTER_PACKET_HEADER_SIZE = 0x48;
export const SET_DATA_FILTER_IOCTL = 0x12200c;
export const LAYER_TRANSPORT = 1n;
export const DIRECTION_INBOUND = 0n;
export const READ_BUFFER_SIZE = 150;
export const READ_BUFFER_COUNT = 800;
export const DEVICE_PATH = "\\\\.\\ddnpm\\transporthandle";
/** Windows address families and protocols. */
export const WIN = {
  AF_INET: 2,
  AF_INET6: 23,
  IPPROTO_ICMP: 1,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_ICMPV6: 58,
};

/** A FilterAddress: family, v4 or v6 address and mask. */
export interface FilterAddress {
  af: number;
  /** 4 or 16 bytes, or absent for "any". */
  addr?: Uint8Array;
}

/** One FilterDefinition (all fields u64 on the wire). */
export interface FilterDefinition {
  af: number;
  local?: FilterAddress;
  remote?: FilterAddress;
  localPort?: number;
  remotePort?: number;
  protocol?: number;
  discard?: boolean;
}

function writeAddress(v: DataView, off: number, a: FilterAddress | undefined): void {
  if (!a?.addr) return;
  const b = new Uint8Array(v.buffer, v.byteOffset);
  v.setBigUint64(off, BigInt(a.af), true);
  if (a.addr.length === 4) {
    b.set(a.addr, off + 8);
    v.setBigUint64(off + 32, 0xffffffffn, true);
  } else {
    b.set(a.addr, off + 16);
    v.setBigUint64(off + 32, 0xffffffffffffffffn, true);
  }
}

/** Encodes a FilterDefinition as the driver's 160-byte little-endian struct. */
export function encodeFilterDefinition(f: FilterDefinition): Uint8Array {
  const out = new Uint8Array(FILTER_DEFINITION_SIZE);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, DDNPM_SIGNATURE, true);
  v.setBigUint64(8, BigInt(FILTER_DEFINITION_SIZE), true);
  v.setBigUint64(16, LAYER_TRANSPORT, true);
  v.setBigUint64(24, BigInt(f.af), true);
  writeAddress(v, 32, f.local);
  writeAddress(v, 72, f.remote);
  v.setBigUint64(112, BigInt(f.localPort ?? 0), true);
  v.setBigUint64(120, BigInt(f.remotePort ?? 0), true);
  v.setBigUint64(128, BigInt(f.protocol ?? 0), true);
  v.setBigUint64(136, DIRECTION_INBOUND, true);
  v.setBigUint64(144, 0n, true); // interface index: any
  v.setBigUint64(152, f.discard ? 1n : 0n, true);
  return out;
}

/** The capture kinds of the reference's PacketFilterSpec. */
export type DriverFilterSpec =
  | { type: "icmp" | "udp" }
  | { type: "tcp"; local: Uint8Array; localPort: number; remote: Uint8Array; remotePort: number }
  | { type: "synack"; remote: Uint8Array; remotePort: number }
  | { type: "none" };

function fa(addr: Uint8Array): FilterAddress {
  return { af: addr.length === 4 ? WIN.AF_INET : WIN.AF_INET6, addr };
}

/**
 * Returns every definition installed for `spec`: inbound ICMP (v4) and ICMPv6 (v6) always, plus
 * capture + discard pairs for TCP, SYN-ACK and "none".
 */
export function driverFilters(spec: DriverFilterSpec): FilterDefinition[] {
  const defs: FilterDefinition[] = [
    { af: WIN.AF_INET, protocol: WIN.IPPROTO_ICMP },
    { af: WIN.AF_INET6, protocol: WIN.IPPROTO_ICMPV6 },
  ];
  const pair = (d: FilterDefinition) => defs.push(d, { ...d, discard: true });
  switch (spec.type) {
    case "tcp":
      pair({
        af: fa(spec.local).af,
        protocol: WIN.IPPROTO_TCP,
        local: fa(spec.local),
        remote: fa(spec.remote),
        localPort: spec.localPort,
        remotePort: spec.remotePort,
      });
      break;
    case "synack":
      pair({
        af: fa(spec.remote).af,
        protocol: WIN.IPPROTO_TCP,
        remote: fa(spec.remote),
        remotePort: spec.remotePort,
      });
      break;
    case "none":
      pair({ af: WIN.AF_INET });
      pair({ af: WIN.AF_INET6 });
      break;
  }
  return defs;
}

/** Returns the packet (from its IP header) of one completed driver read of `n` bytes. */
export function packetFromDriverRead(buf: Uint8Array, n: number): Uint8Array | null {
  if (n <= FILTER_PACKET_HEADER_SIZE) return null;
  return buf.subarray(FILTER_PACKET_HEADER_SIZE, n);
}

const KERNEL32 = {
  CreateFileW: {
    parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
    result: "pointer",
  },
  DeviceIoControl: {
    parameters: ["pointer", "u32", "buffer", "u32", "buffer", "u32", "buffer", "pointer"],
    result: "i32",
  },
  WriteFile: { parameters: ["pointer", "buffer", "u32", "buffer", "pointer"], result: "i32" },
  ReadFile: { parameters: ["pointer", "buffer", "u32", "buffer", "pointer"], result: "i32" },
  ReadFile_nb: {
    name: "ReadFile",
    parameters: ["pointer", "buffer", "u32", "buffer", "pointer"],
    result: "i32",
    nonblocking: true,
  },
  CancelIoEx: { parameters: ["pointer", "pointer"], result: "i32" },
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  GetLastError: { parameters: [], result: "u32" },
} as const;

const GENERIC_READ = 0x80000000, GENERIC_WRITE = 0x40000000;
const FILE_SHARE_READ = 1, FILE_SHARE_WRITE = 2, OPEN_EXISTING = 3;

let k32: Deno.DynamicLibrary<typeof KERNEL32> | undefined;

function kernel32() {
  if (Deno.build.os !== "windows") throw new Error("the ddnpm driver is Windows-only");
  return (k32 ??= Deno.dlopen("kernel32.dll", KERNEL32)).symbols;
}

function wide(s: string): Uint8Array {
  const out = new Uint8Array((s.length + 1) * 2);
  for (let i = 0; i < s.length; i++) new DataView(out.buffer).setUint16(i * 2, s.charCodeAt(i), true);
  return out;
}

/**
 * A ddnpm data handle (Windows only). This port reads synchronously on a pool thread (one read in
 * flight) instead of the reference's 800 overlapped reads on an IO completion port.
 */
export class DdnpmHandle {
  #h: Deno.PointerValue;
  #buf = new Uint8Array(READ_BUFFER_SIZE);

  /** Opens the device. @throws {Error} If the driver is not running. */
  constructor() {
    this.#h = DdnpmHandle.#open();
  }

  static #open(): Deno.PointerValue {
    const h = kernel32().CreateFileW(
      wide(DEVICE_PATH),
      GENERIC_READ | GENERIC_WRITE,
      FILE_SHARE_READ | FILE_SHARE_WRITE,
      null,
      OPEN_EXISTING,
      0,
      null,
    );
    if (!h || Deno.UnsafePointer.value(h) === 0xffffffffffffffffn) {
      throw new Error(`failed to open ${DEVICE_PATH}: error ${kernel32().GetLastError()}`);
    }
    return h;
  }

  /** Reopens the handle and installs `defs` (one IOCTL each). */
  setFilters(defs: FilterDefinition[]): void {
    kernel32().CloseHandle(this.#h);
    this.#h = DdnpmHandle.#open();
    const id = new Uint8Array(8), ret = new Uint8Array(4);
    for (const d of defs) {
      const def = encodeFilterDefinition(d);
      if (!kernel32().DeviceIoControl(this.#h, SET_DATA_FILTER_IOCTL, def, def.length, id, 8, ret, null)) {
        throw new Error(`failed to set filter: error ${kernel32().GetLastError()}`);
      }
    }
  }

  /** Writes one raw IP packet. */
  write(packet: Uint8Array): void {
    const n = new Uint8Array(4);
    if (!kernel32().WriteFile(this.#h, packet, packet.length, n, null)) {
      throw new Error(`WriteFile failed: error ${kernel32().GetLastError()}`);
    }
  }

  /** Reads one packet (IP header first). */
  async read(): Promise<Uint8Array | null> {
    const n = new Uint8Array(4);
    if (!await kernel32().ReadFile_nb(this.#h, this.#buf, this.#buf.length, n, null)) return null;
    return packetFromDriverRead(this.#buf, new DataView(n.buffer).getUint32(0, true))?.slice() ?? null;
  }

  close(): void {
    kernel32().CancelIoEx(this.#h, null);
    kernel32().CloseHandle(this.#h);
  }
}
