import { assert, assertEquals } from "../traceroute/_assert.ts";
import { PcapCapture, pcapVersion } from "../../ffi/pcap.ts";
import { linkTypeFromDLT, parseFrame } from "../../src/traceroute/packets/frame.ts";
import { realtimeNs } from "../../ffi/libc.ts";

function pcapAvailable(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  try {
    pcapVersion();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "PcapCapture on 'any': cooked frames through the shared poller, kernel-side filter, timestamps",
  ignore: !pcapAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert(pcapVersion().startsWith("libpcap version"));
    const seen: { type: number | undefined; t: number }[] = [];
    const cap = new PcapCapture("any", "icmp and host 127.0.0.77", (frame, dlt, t) => {
      const p = parseFrame(frame, linkTypeFromDLT(dlt)!);
      seen.push({ type: p?.icmp?.type, t });
    });
    try {
      assertEquals(linkTypeFromDLT(cap.dlt), "sll");
      const t0 = realtimeNs();
      await new Deno.Command("ping", { args: ["-c", "2", "-i", "0.05", "127.0.0.77"], stdout: "null" })
        .output();
      for (let i = 0; i < 50 && seen.filter((s) => s.type === 0).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert(seen.filter((s) => s.type === 8).length >= 2, JSON.stringify(seen));
      assert(seen.filter((s) => s.type === 0).length >= 2);
      assert(seen.every((s) => s.t > t0 && s.t < realtimeNs()), "timestamps on the realtimeNs base");
    } finally {
      cap.close();
    }
  },
});
