/**
 * Capture on a non-Ethernet link (spec §8, the reference's known bug): the path to the target
 * crosses a wireguard-go tunnel (a TUN device, raw IP frames, no link header). Needs root,
 * wireguard-go and wg; skipped otherwise.
 *
 * ```
 * A: wa 10.98.0.1 ==underlay== wb 10.98.0.2 :B      tunnel: A 10.98.1.1 <-> B 10.98.1.2
 * B: bc 10.98.2.1 -- cb 10.98.2.2 :C (target)      TTL 1 = 10.98.1.2, TTL 2 = 10.98.2.2
 * ```
 */
import { assertEquals } from "./_assert.ts";
import { labAvailable } from "./_lab.ts";

function has(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const ignore = !labAvailable() || !has("wireguard-go") || !has("wg");

async function sh(args: string[], input?: string): Promise<string> {
  const p = new Deno.Command(args[0], {
    args: args.slice(1),
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await p.output();
  if (!out.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name: "trace over a WireGuard (TUN) hop: replies on the raw-IP link are parsed",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const p = `sw${crypto.getRandomValues(new Uint16Array(1))[0].toString(36)}`;
    const [A, B, C] = [`${p}-a`, `${p}-b`, `${p}-c`];
    const wgA = `${p}wa`, wgB = `${p}wb`;
    const procs: Deno.ChildProcess[] = [];
    const x = (ns: string, ...args: string[]) => sh(["ip", "netns", "exec", ns, ...args]);
    try {
      for (const n of [A, B, C]) {
        await sh(["ip", "netns", "add", n]);
        await sh(["ip", "-n", n, "link", "set", "lo", "up"]);
        await x(
          n,
          "sysctl",
          "-qw",
          "net.ipv4.icmp_ratelimit=0",
          "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf.default.rp_filter=0",
        );
      }
      await sh(["ip", "link", "add", "wa", "netns", A, "type", "veth", "peer", "name", "wb", "netns", B]);
      await sh(["ip", "link", "add", "bc", "netns", B, "type", "veth", "peer", "name", "cb", "netns", C]);
      for (
        const [n, dev, addr] of [[A, "wa", "10.98.0.1/24"], [B, "wb", "10.98.0.2/24"], [
          B,
          "bc",
          "10.98.2.1/24",
        ], [C, "cb", "10.98.2.2/24"]]
      ) {
        await sh(["ip", "-n", n, "addr", "add", addr, "dev", dev]);
        await sh(["ip", "-n", n, "link", "set", dev, "up"]);
      }
      await sh(["ip", "-n", C, "route", "add", "default", "via", "10.98.2.1"]);
      await x(B, "sysctl", "-qw", "net.ipv4.ip_forward=1");
      for (const [n, ifname] of [[A, wgA], [B, wgB]]) {
        procs.push(
          new Deno.Command("ip", {
            args: ["netns", "exec", n, "wireguard-go", "-f", ifname],
            stdout: "null",
            stderr: "null",
          }).spawn(),
        );
      }
      for (let i = 0; i < 50; i++) {
        const ok = await Promise.all(
          [wgA, wgB].map((i) => Deno.stat(`/var/run/wireguard/${i}.sock`).then(() => true, () => false)),
        );
        if (ok.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const keyA = await sh(["wg", "genkey"]), keyB = await sh(["wg", "genkey"]);
      const pubA = await sh(["wg", "pubkey"], keyA), pubB = await sh(["wg", "pubkey"], keyB);
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(`${dir}/a`, keyA);
      await Deno.writeTextFile(`${dir}/b`, keyB);
      await x(
        A,
        "wg",
        "set",
        wgA,
        "listen-port",
        "51820",
        "private-key",
        `${dir}/a`,
        "peer",
        pubB,
        "endpoint",
        "10.98.0.2:51821",
        "allowed-ips",
        "10.98.1.2/32,10.98.2.0/24",
      );
      await x(
        B,
        "wg",
        "set",
        wgB,
        "listen-port",
        "51821",
        "private-key",
        `${dir}/b`,
        "peer",
        pubA,
        "endpoint",
        "10.98.0.1:51820",
        "allowed-ips",
        "10.98.1.1/32",
      );
      await Deno.remove(dir, { recursive: true });
      await sh(["ip", "-n", A, "addr", "add", "10.98.1.1/24", "dev", wgA]);
      await sh(["ip", "-n", B, "addr", "add", "10.98.1.2/24", "dev", wgB]);
      await sh(["ip", "-n", A, "link", "set", wgA, "up"]);
      await sh(["ip", "-n", B, "link", "set", wgB, "up"]);
      await x(B, "sysctl", "-qw", `net.ipv4.conf.${wgB}.rp_filter=0`);
      await sh(["ip", "-n", A, "route", "add", "10.98.2.0/24", "dev", wgA]);
      await x(A, "ping", "-c1", "-W3", "10.98.2.2"); // handshake
      const main = new URL("../../main.ts", import.meta.url).pathname;
      for (const args of [["-P", "icmp"], ["-P", "udp"], ["-P", "tcp"]]) {
        await t.step(args.join(" "), async () => {
          const out = await x(
            A,
            Deno.execPath(),
            "run",
            "-A",
            "--no-lock",
            main,
            "trace",
            ...args,
            "-q",
            "2",
            "-Q",
            "2",
            "-m",
            "6",
            "--timeout",
            "800",
            "10.98.2.2",
          );
          const d = JSON.parse(out);
          for (const run of d.traceroute.runs) {
            assertEquals(run.source.ip_address, "10.98.1.1");
            assertEquals(run.hops.map((h: { ip_address: string }) => h.ip_address), [
              "10.98.1.2",
              "10.98.2.2",
            ]);
          }
          assertEquals(d.e2e_probe.packets_received, 2);
        });
      }
    } finally {
      for (const pr of procs) {
        try {
          pr.kill("SIGTERM");
        } catch { /* gone */ }
        await pr.status;
      }
      for (const n of [A, B, C]) await sh(["ip", "netns", "del", n]).catch(() => {});
    }
  },
});
