/**
 * The platform layer: raw IP send plus filtered capture, chosen by OS. Linux uses a raw
 * `IPPROTO_RAW` socket and an AF_PACKET socket with classic BPF (ffi/packet_socket.ts). macOS
 * (`/dev/bpf`, ffi/darwin_bpf.ts) and Windows (raw socket or the ddnpm driver,
 * ffi/windows_ddnpm.ts) have their layouts implemented and unit-tested but cannot run here.
 *
 * @module
 */
import { PacketCapture, RawSender } from "../../../ffi/packet_socket.ts";
import { timestampsReady } from "../../../ffi/recvmsg.ts";
import { BpfDevice, DarwinRawSender } from "../../../ffi/darwin_bpf.ts";
import { DdnpmHandle, driverFilters, type DriverFilterSpec } from "../../../ffi/windows_ddnpm.ts";
import { realtimeNs } from "../../../ffi/libc.ts";
import { WinRawSocket } from "../../../ffi/windows_socket.ts";
import { canonicalIP, formatIP, isLoopbackIP } from "../packets/addr.ts";

export { timestampsReady };
import type { BpfInsn } from "../packets/cbpf.ts";
import { linkTypeFromDLT, type ParsedPacket, parseFrame, parsePacket } from "../packets/frame.ts";

/** Raw send plus capture for one run. */
export interface PacketIO {
  /** Sends an IP packet (header included) to `dst`. */
  send(packet: Uint8Array, dst: Uint8Array): void;
  /** Replaces the capture filter. */
  setFilter(filter: BpfInsn[]): void;
  close(): void;
}

/** Receives parsed packets (TCP or ICMP only) with their capture time. */
export type ParsedHandler = (p: ParsedPacket, timeNs: number) => void;

/** Where the run's packets go: its local address (picks the macOS capture interface). */
export interface PacketIOOptions {
  local?: Uint8Array;
  /** Windows: use the ddnpm driver for send and capture. */
  useDriver?: boolean;
  /** Windows driver capture kind (the driver filters in the kernel; BPF programs are Linux-only). */
  driverFilter?: DriverFilterSpec;
}

/**
 * Opens raw send and filtered capture for an IPv4 (`v6` false) or IPv6 run.
 * @throws {OSError} EPERM/EACCES when raw sockets are refused (the caller may go unprivileged).
 */
export function openPacketIO(
  v6: boolean,
  filter: BpfInsn[],
  onPacket: ParsedHandler,
  opts: PacketIOOptions = {},
): PacketIO {
  switch (Deno.build.os) {
    case "linux":
      return openLinux(v6, filter, onPacket);
    case "darwin":
      return openDarwin(onPacket, opts);
    case "windows":
      if (opts.useDriver) return openDdnpm(onPacket, opts);
      if (v6) throw new Error("IPv6 needs the Windows driver (--windows-driver)");
      return openWinRaw(onPacket);
    default:
      throw new Error(`raw packet I/O is not available on ${Deno.build.os}`);
  }
}

function openLinux(v6: boolean, filter: BpfInsn[], onPacket: ParsedHandler): PacketIO {
  const sender = new RawSender(v6);
  let capture: PacketCapture;
  try {
    capture = new PacketCapture(filter, (pkt, _etherType, t) => {
      const parsed = parsePacket(pkt);
      if (parsed) onPacket(parsed, t);
    });
  } catch (e) {
    sender.close();
    throw e;
  }
  return {
    send: (p, dst) => sender.send(p, dst),
    setFilter: (f) => capture.setFilter(f),
    close: () => {
      capture.close();
      sender.close();
    },
  };
}

/** The interface holding `local` (macOS binds /dev/bpf to it); loopback for loopback. */
function interfaceFor(local: Uint8Array | undefined): string {
  const text = local ? formatIP(local) : "";
  if (!text || isLoopbackIP(text)) return "lo0";
  const hit = Deno.networkInterfaces().find((i) => canonicalIP(i.address) === text);
  if (!hit) throw new Error(`deviceForTarget found no interface with address ${text}`);
  return hit.name;
}

/**
 * Platforms without a pollable capture fd (macOS /dev/bpf, Windows sockets and driver) read on a
 * pool thread in a loop: one pending read per run, each frame stamped in user space.
 */
function readLoop(
  read: () => Promise<Uint8Array[]>,
  parse: (frame: Uint8Array) => ParsedPacket | null,
  onPacket: ParsedHandler,
  close: () => void,
  send: (p: Uint8Array, dst: Uint8Array) => void,
): PacketIO {
  let open = true;
  (async () => {
    while (open) {
      for (const frame of await read()) {
        const p = parse(frame);
        if (p) onPacket(p, realtimeNs());
      }
    }
  })().catch(() => {});
  return {
    send,
    setFilter: () => {}, // no kernel filter here: the probe codecs filter in user space
    close: () => {
      open = false;
      close();
    },
  };
}

function openDarwin(onPacket: ParsedHandler, opts: PacketIOOptions): PacketIO {
  const sender = new DarwinRawSender();
  const dev = new BpfDevice(interfaceFor(opts.local));
  const link = linkTypeFromDLT(dev.dlt) ?? "ethernet";
  return readLoop(
    async () => (await dev.read()).map((r) => r.frame),
    (f) => parseFrame(f, link),
    onPacket,
    () => {
      dev.close();
      sender.close();
    },
    (p, dst) => sender.send(p, dst),
  );
}

function openWinRaw(onPacket: ParsedHandler): PacketIO {
  const sock = new WinRawSocket();
  return readLoop(
    async () => [await sock.recv()].filter((x): x is Uint8Array => x !== null),
    parsePacket,
    onPacket,
    () => sock.close(),
    (p, dst) => sock.send(p, dst),
  );
}

function openDdnpm(onPacket: ParsedHandler, opts: PacketIOOptions): PacketIO {
  const h = new DdnpmHandle();
  h.setFilters(driverFilters(opts.driverFilter ?? { type: "icmp" }));
  return readLoop(
    async () => [await h.read()].filter((x): x is Uint8Array => x !== null),
    parsePacket,
    onPacket,
    () => h.close(),
    (p) => h.write(p),
  );
}
