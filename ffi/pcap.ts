/**
 * libpcap capture (Debian `libpcap0.8`, `libpcap.so.0.8`) through FFI, read from the shared
 * poller: immediate mode, non-blocking, the selectable fd in the poll set, then drain
 * `pcap_next_ex` until it returns 0 (environment.md §4). On the `any` device the link type is
 * Linux cooked capture (DLT_LINUX_SLL), which frames every interface alike, tun and WireGuard
 * included. An alternative capture backend to ffi/packet_socket.ts.
 *
 * @example Usage
 * ```ts ignore
 * const cap = new PcapCapture("any", "icmp or icmp6", (frame, dlt, tNs) => {});
 * cap.close();
 * ```
 * @module
 */
import { C, epochToRealtimeNs } from "./libc.ts";
import { getPoller, type Registration } from "./poller.ts";

const SYMBOLS = {
  pcap_create: { parameters: ["buffer", "buffer"], result: "pointer" },
  pcap_set_snaplen: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_immediate_mode: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_timeout: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_activate: { parameters: ["pointer"], result: "i32" },
  pcap_compile: { parameters: ["pointer", "buffer", "buffer", "i32", "u32"], result: "i32" },
  pcap_setfilter: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_freecode: { parameters: ["buffer"], result: "void" },
  pcap_setnonblock: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  pcap_get_selectable_fd: { parameters: ["pointer"], result: "i32" },
  pcap_next_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  pcap_datalink: { parameters: ["pointer"], result: "i32" },
  pcap_geterr: { parameters: ["pointer"], result: "pointer" },
  pcap_close: { parameters: ["pointer"], result: "void" },
  pcap_lib_version: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** Loads libpcap. @throws {Error} If it is not installed (apt `libpcap0.8`). */
export function pcapLib(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (!lib) {
    let last: unknown;
    for (const name of ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so", "libpcap.dylib"]) {
      try {
        lib = Deno.dlopen(name, SYMBOLS);
        break;
      } catch (e) {
        last = e;
      }
    }
    if (!lib) throw new Error(`libpcap is not available: ${(last as Error).message}`);
  }
  return lib.symbols;
}

/** Returns libpcap's version string. */
export function pcapVersion(): string {
  return Deno.UnsafePointerView.getCString(pcapLib().pcap_lib_version()!);
}

function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}

/** A frame with its DLT and the capture time in ns (same base as `realtimeNs`, from pcap's timeval). */
export type PcapHandler = (frame: Uint8Array, dlt: number, timeNs: number) => void;

/** A live libpcap capture delivering frames from the shared poller. */
export class PcapCapture {
  readonly dlt: number;
  #p: Deno.PointerObject;
  #reg: Registration | null = null;
  #hdrPtr = new Uint8Array(8);
  #dataPtr = new Uint8Array(8);

  /**
   * Opens `device` ("any" for every interface) with a tcpdump-syntax `filter`.
   * @throws {Error} With libpcap's message if any step fails.
   */
  constructor(device: string, filter: string, handler: PcapHandler, snaplen = 262144) {
    const l = pcapLib();
    const errbuf = new Uint8Array(256);
    const p = l.pcap_create(cstr(device), errbuf);
    if (!p) {
      throw new Error(`pcap_create(${device}): ${new TextDecoder().decode(errbuf).replace(/\0.*$/s, "")}`);
    }
    this.#p = p;
    const fail = (what: string) => {
      const msg = Deno.UnsafePointerView.getCString(l.pcap_geterr(p)!);
      l.pcap_close(p);
      return new Error(`${what}: ${msg}`);
    };
    l.pcap_set_snaplen(p, snaplen);
    l.pcap_set_immediate_mode(p, 1);
    l.pcap_set_timeout(p, 100);
    const rc = l.pcap_activate(p);
    if (rc < 0) throw fail(`pcap_activate(${device})`);
    const prog = new Uint8Array(16);
    if (l.pcap_compile(p, prog, cstr(filter), 1, 0xffffffff) < 0) throw fail("pcap_compile");
    const set = l.pcap_setfilter(p, prog);
    l.pcap_freecode(prog);
    if (set < 0) throw fail("pcap_setfilter");
    if (l.pcap_setnonblock(p, 1, errbuf) < 0) throw fail("pcap_setnonblock");
    this.dlt = l.pcap_datalink(p);
    const fd = l.pcap_get_selectable_fd(p);
    if (fd < 0) throw fail("pcap_get_selectable_fd");
    this.#reg = getPoller().register(fd, C.POLLIN, () => this.#drain(handler));
  }

  #drain(handler: PcapHandler): void {
    const l = pcapLib();
    const hv = new DataView(this.#hdrPtr.buffer), dv = new DataView(this.#dataPtr.buffer);
    for (let i = 0; i < 4096; i++) {
      if (l.pcap_next_ex(this.#p, this.#hdrPtr, this.#dataPtr) !== 1) return;
      const hdr = new Deno.UnsafePointerView(Deno.UnsafePointer.create(hv.getBigUint64(0, true))!);
      const sec = hdr.getBigInt64(0), usec = hdr.getBigInt64(8);
      const caplen = hdr.getUint32(16);
      const data = new Deno.UnsafePointerView(Deno.UnsafePointer.create(dv.getBigUint64(0, true))!);
      const frame = new Uint8Array(caplen);
      data.copyInto(frame);
      handler(frame, this.dlt, epochToRealtimeNs(sec, usec * 1000n));
    }
  }

  close(): void {
    if (!this.#reg) return;
    this.#reg.close();
    this.#reg = null;
    pcapLib().pcap_close(this.#p);
  }
}
