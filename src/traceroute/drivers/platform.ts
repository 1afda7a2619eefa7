/**
 * The platform layer: raw IP send plus filtered capture, chosen by OS. Linux uses a raw
 * `IPPROTO_RAW` socket and an AF_PACKET socket with classic BPF (ffi/packet_socket.ts). macOS
 * (`/dev/bpf`, ffi/darwin_bpf.ts) and Windows (raw socket or the ddnpm driver,
 * ffi/windows_ddnpm.ts) have their layouts implemented and unit-tested but cannot run here.
 *
 * @module
 */
import { PacketCapture, RawSender, timestampsReady } from "../../../ffi/packet_socket.ts";

export { timestampsReady };
import type { BpfInsn } from "../packets/cbpf.ts";
import { type ParsedPacket, parsePacket } from "../packets/frame.ts";

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

/**
 * Opens raw send and filtered capture for an IPv4 (`v6` false) or IPv6 run.
 * @throws {OSError} EPERM/EACCES when raw sockets are refused (the caller may go unprivileged).
 */
export function openPacketIO(v6: boolean, filter: BpfInsn[], onPacket: ParsedHandler): PacketIO {
  if (Deno.build.os !== "linux") {
    throw new Error(`raw packet I/O is not available on ${Deno.build.os} in this build`);
  }
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
