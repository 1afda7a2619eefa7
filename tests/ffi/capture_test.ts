import { assert, assertEquals } from "../traceroute/_assert.ts";
import { PacketCapture, RawSender } from "../../ffi/packet_socket.ts";
import { C } from "../../ffi/libc.ts";
import { DgramSocket } from "../../ffi/dgram_socket.ts";
import {
  dropAllFilter,
  encodeFilter,
  icmpFilter,
  runFilter,
  tcpFilter,
} from "../../src/traceroute/packets/cbpf.ts";
import { IcmpProbe } from "../../src/traceroute/probe/icmp.ts";
import { parsePacket } from "../../src/traceroute/packets/frame.ts";
import { emitIPv4, emitIPv6 } from "../../src/traceroute/packets/ip.ts";
import { emitTCP, emitUDP, TCP_FLAG } from "../../src/traceroute/packets/transport.ts";
import { parseIP } from "../../src/traceroute/packets/addr.ts";

const root = Deno.build.os === "linux" && Deno.uid() === 0;
const LO = parseIP("127.0.0.1")!;

Deno.test("cBPF programs: icmp or icmp6 only; TCP 4-tuple + ICMP; SYN-ACK only; encoded as sock_filter", () => {
  const a = parseIP("10.0.0.1")!, b = parseIP("10.0.0.2")!;
  const icmp4 = emitIPv4({ id: 1, ttl: 1, proto: 1, src: a, dst: b }, new Uint8Array(8));
  const icmp6 = emitIPv6(
    { hopLimit: 1, nextHeader: 58, src: parseIP("::1")!, dst: parseIP("::2")! },
    new Uint8Array(8),
  );
  const udp = emitIPv4({ id: 1, ttl: 1, proto: 17, src: a, dst: b }, emitUDP(a, b, 1, 2, new Uint8Array(4)));
  const prog = icmpFilter();
  assert(runFilter(prog, icmp4, 0x0800) > 0);
  assert(runFilter(prog, icmp6, 0x86dd) > 0);
  assertEquals(runFilter(prog, udp, 0x0800), 0);
  assertEquals(runFilter(prog, icmp4, 0x0806), 0, "ARP EtherType");
  assertEquals(runFilter(dropAllFilter(), icmp4, 0x0800), 0);
  const seg = (src: Uint8Array, dst: Uint8Array, sp: number, dp: number, flags: number, frag = 0) => {
    const p = emitIPv4(
      { id: 1, ttl: 9, proto: 6, src, dst },
      emitTCP(src, dst, { sport: sp, dport: dp, seq: 1, ack: 2, flags, window: 1 }),
    );
    p[6] = frag >> 8;
    p[7] = frag & 0xff;
    return p;
  };
  const f = tcpFilter({ src: a, sport: 443, dst: b, dport: 5000, withIcmp: true });
  assert(runFilter(f, seg(a, b, 443, 5000, TCP_FLAG.RST), 0x0800) > 0);
  assertEquals(runFilter(f, seg(a, b, 443, 5001, TCP_FLAG.RST), 0x0800), 0);
  assertEquals(runFilter(f, seg(b, a, 443, 5000, TCP_FLAG.RST), 0x0800), 0);
  assertEquals(runFilter(f, seg(a, b, 443, 5000, TCP_FLAG.RST, 0x2000), 0x0800), 0, "fragments dropped");
  assert(runFilter(f, icmp4, 0x0800) > 0);
  const s = tcpFilter({ src: a, sport: 443, withIcmp: false, synAckOnly: true });
  assert(runFilter(s, seg(a, b, 443, 7, TCP_FLAG.SYN | TCP_FLAG.ACK), 0x0800) > 0);
  assertEquals(runFilter(s, seg(a, b, 443, 7, TCP_FLAG.ACK), 0x0800), 0);
  assertEquals(runFilter(s, icmp4, 0x0800), 0);
  const enc = encodeFilter(prog);
  assertEquals(enc.length, prog.length * 8);
  assertEquals(enc[0] | (enc[1] << 8), prog[0].code);
});

Deno.test({
  name: "PacketCapture on lo: the kernel filter passes ICMP only, once per packet, with kernel timestamps",
  ignore: !root,
  async fn() {
    const got: { proto: number; type: number | undefined; t: number }[] = [];
    const cap = new PacketCapture(icmpFilter(), (pkt, etherType, t) => {
      const p = parsePacket(pkt);
      if (p?.ip.src === "127.0.0.1") got.push({ proto: etherType, type: p.icmp?.type, t });
    });
    const sender = new RawSender(false);
    const udp = new DgramSocket(false, C.IPPROTO_UDP);
    try {
      udp.connect(LO, 9);
      udp.send(new Uint8Array(8)); // UDP noise (its port unreachable is ICMP, so it is seen too)
      const probe = new IcmpProbe(
        {
          local: "127.0.0.1",
          localBytes: LO,
          localPort: 0,
          target: "127.0.0.1",
          targetBytes: LO,
          targetPort: 0,
        },
        4242,
      ).buildProbe(64);
      sender.send(probe, LO);
      for (let i = 0; i < 50 && got.filter((g) => g.type === 0).length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const echo = got.filter((g) => g.type === 8);
      const replies = got.filter((g) => g.type === 0);
      assertEquals(echo.length, 1, "outgoing copies skipped: one request");
      assertEquals(replies.length, 1);
      assert(got.every((g) => g.proto === 0x0800));
      assert(replies[0].t > 0);
    } finally {
      udp.close();
      sender.close();
      cap.close();
    }
  },
  sanitizeOps: false,
  sanitizeResources: false,
});

Deno.test({
  name: "PacketCapture race fix: traffic flowing while the socket opens never leaks past the filter",
  ignore: !root,
  async fn() {
    // ICMP noise on lo while captures with a TCP-only filter are opened: without drop-all + drain,
    // echo packets queued between socket() and SO_ATTACH_FILTER would be delivered
    const noise = new Deno.Command("ping", {
      args: ["-q", "-i", "0.002", "-c", "300", "127.0.0.1"],
      stdout: "null",
      stderr: "null",
    })
      .spawn();
    const a = parseIP("127.0.0.1")!;
    const leaked: number[] = [];
    const caps: PacketCapture[] = [];
    try {
      await new Promise((r) => setTimeout(r, 30));
      for (let i = 0; i < 30; i++) {
        caps.push(
          new PacketCapture(tcpFilter({ src: a, sport: 1, dst: a, dport: 2, withIcmp: false }), (pkt) => {
            const p = parsePacket(pkt);
            if (!p?.tcp) leaked.push(p?.ip.proto ?? -1);
          }),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 50));
      assertEquals(leaked, []);
      // and the filter switch takes effect at once
      const seen: string[] = [];
      const sender = new RawSender(false);
      const cap = new PacketCapture(
        tcpFilter({ src: a, sport: 1, dst: a, dport: 2, withIcmp: false }),
        (pkt) => {
          seen.push(parsePacket(pkt)?.tcp ? "tcp" : "other");
        },
      );
      caps.push(cap);
      const seg = emitIPv4(
        { id: 7, ttl: 9, proto: 6, src: a, dst: a },
        emitTCP(a, a, { sport: 1, dport: 2, seq: 1, ack: 0, flags: TCP_FLAG.RST, window: 0 }),
      );
      sender.send(seg, a);
      for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assertEquals(seen, ["tcp"]);
      cap.setFilter(dropAllFilter());
      sender.send(seg, a);
      await new Promise((r) => setTimeout(r, 50));
      assertEquals(seen, ["tcp"]);
      sender.close();
    } finally {
      for (const c of caps) c.close();
      try {
        noise.kill();
      } catch { /* exited */ }
      await noise.status;
    }
  },
  sanitizeOps: false,
  sanitizeResources: false,
});
