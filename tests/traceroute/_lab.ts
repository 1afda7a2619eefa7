/**
 * A multi-hop lab made by the tests themselves: five network namespaces chained by veth pairs,
 * with IPv4 and IPv6, forwarding on, ICMP rate limits and rp_filter off.
 *
 * ```
 * client c0 10.99.1.2 -- r1 -- r2 -- r3 -- target t0 10.99.4.2   (fd99:N::/64 alongside)
 * TTL 1 = 10.99.1.1, 2 = 10.99.2.2, 3 = 10.99.3.2, 4 = 10.99.4.2 (target, nothing listens)
 * ```
 * Every namespace name carries a random prefix, so parallel test files never collide.
 *
 * @module
 */

export const HOPS_V4 = ["10.99.1.1", "10.99.2.2", "10.99.3.2", "10.99.4.2"];
export const HOPS_V6 = ["fd99:1::1", "fd99:2::2", "fd99:3::2", "fd99:4::2"];
export const TARGET_V4 = HOPS_V4[3];
export const TARGET_V6 = HOPS_V6[3];
export const CLIENT_V4 = "10.99.1.2";

/** True when the lab can be built (root on Linux with `ip`). */
export function labAvailable(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  try {
    return new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

async function sh(args: string[], allowFail = false): Promise<string> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success && !allowFail) {
    throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

let unprivileged: { dir: string; bin: string } | undefined;

/**
 * A deno binary and DENO_DIR an unprivileged user can use: copies of root's (root's home is 0700
 * and the binary may live there). Removed by {@linkcode cleanupUnprivileged}.
 */
async function unprivilegedDeno(): Promise<{ dir: string; bin: string }> {
  if (unprivileged) return unprivileged;
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "sy-deno-" });
  const src = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
  await sh(["cp", "-r", `${src}/npm`, `${dir}/npm`]);
  await sh(["cp", Deno.execPath(), `${dir}/deno`]);
  await sh(["chmod", "-R", "a+rwX", dir]);
  unprivileged = { dir, bin: `${dir}/deno` };
  return unprivileged;
}

/** Removes the unprivileged deno copy. */
export async function cleanupUnprivileged(): Promise<void> {
  if (unprivileged) await Deno.remove(unprivileged.dir, { recursive: true }).catch(() => {});
  unprivileged = undefined;
}

/** Sets `net.ipv4.ping_group_range` in the client namespace (ICMP datagram sockets on/off). */
export async function setPingGroupRange(lab: Lab, on: boolean): Promise<void> {
  await sh([
    "ip",
    "netns",
    "exec",
    lab.client,
    "sysctl",
    "-qw",
    `net.ipv4.ping_group_range=${on ? "0 2147483647" : "1 0"}`,
  ]);
}

/** A running lab. */
export class Lab {
  readonly prefix: string;
  readonly client: string;
  readonly r: string[];
  readonly target: string;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.client = `${prefix}-c`;
    this.r = [`${prefix}-r1`, `${prefix}-r2`, `${prefix}-r3`];
    this.target = `${prefix}-t`;
  }

  get all(): string[] {
    return [this.client, ...this.r, this.target];
  }

  /** Builds the lab; tears it down again if any step fails. */
  static async up(): Promise<Lab> {
    const lab = new Lab(`sy${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`);
    try {
      await lab.#build();
    } catch (e) {
      await lab.down();
      throw e;
    }
    return lab;
  }

  async #build(): Promise<void> {
    const [c, r1, r2, r3, t] = this.all;
    for (const n of this.all) {
      await sh(["ip", "netns", "add", n]);
      await sh(["ip", "-n", n, "link", "set", "lo", "up"]);
    }
    const links: [string, string, string, string][] = [
      [c, "c0", r1, "r1a"],
      [r1, "r1b", r2, "r2a"],
      [r2, "r2b", r3, "r3a"],
      [r3, "r3b", t, "t0"],
    ];
    for (const [ln, li, rn, ri] of links) {
      await sh(["ip", "link", "add", li, "netns", ln, "type", "veth", "peer", "name", ri, "netns", rn]);
    }
    for (const n of this.all) {
      for (const k of ["all", "default"]) {
        await sh(["ip", "netns", "exec", n, "sysctl", "-qw", `net.ipv4.conf.${k}.rp_filter=0`]);
      }
      await sh([
        "ip",
        "netns",
        "exec",
        n,
        "sysctl",
        "-qw",
        "net.ipv4.icmp_ratelimit=0",
        "net.ipv4.icmp_msgs_per_sec=100000",
      ]);
      await sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.icmp.ratelimit=0"], true);
      await sh([
        "ip",
        "netns",
        "exec",
        n,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
      ], true);
    }
    const addrs: [string, string, string, string][] = [
      [c, "c0", "10.99.1.2/24", "fd99:1::2/64"],
      [r1, "r1a", "10.99.1.1/24", "fd99:1::1/64"],
      [r1, "r1b", "10.99.2.1/24", "fd99:2::1/64"],
      [r2, "r2a", "10.99.2.2/24", "fd99:2::2/64"],
      [r2, "r2b", "10.99.3.1/24", "fd99:3::1/64"],
      [r3, "r3a", "10.99.3.2/24", "fd99:3::2/64"],
      [r3, "r3b", "10.99.4.1/24", "fd99:4::1/64"],
      [t, "t0", "10.99.4.2/24", "fd99:4::2/64"],
    ];
    for (const [n, dev, v4, v6] of addrs) {
      await sh(["ip", "-n", n, "addr", "add", v4, "dev", dev]);
      await sh(["ip", "-n", n, "addr", "add", v6, "dev", dev, "nodad"]);
      await sh(["ip", "-n", n, "link", "set", dev, "up"]);
    }
    const routes: [string, string[]][] = [
      [c, ["default", "via", "10.99.1.1"]],
      [r1, ["default", "via", "10.99.2.2"]],
      [r2, ["10.99.1.0/24", "via", "10.99.2.1"]],
      [r2, ["10.99.4.0/24", "via", "10.99.3.2"]],
      [r3, ["default", "via", "10.99.3.1"]],
      [t, ["default", "via", "10.99.4.1"]],
      [c, ["-6", "default", "via", "fd99:1::1"]],
      [r1, ["-6", "default", "via", "fd99:2::2"]],
      [r2, ["-6", "fd99:1::/64", "via", "fd99:2::1"]],
      [r2, ["-6", "fd99:4::/64", "via", "fd99:3::2"]],
      [r3, ["-6", "default", "via", "fd99:3::1"]],
      [t, ["-6", "default", "via", "fd99:4::1"]],
    ];
    for (const [n, r] of routes) {
      const v6 = r[0] === "-6";
      await sh(["ip", "-n", n, ...(v6 ? ["-6"] : []), "route", "add", ...(v6 ? r.slice(1) : r)]);
    }
    for (const n of this.r) {
      await sh([
        "ip",
        "netns",
        "exec",
        n,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
        "net.ipv6.conf.all.forwarding=1",
      ]);
    }
    // per-netns /etc files (ip netns exec bind-mounts them): names for reverse DNS, and a resolver
    // on the client's own loopback so no lookup ever leaves the lab
    await Deno.mkdir(`/etc/netns/${c}`, { recursive: true });
    await Deno.writeTextFile(
      `/etc/netns/${c}/hosts`,
      "127.0.0.1 localhost\n10.99.1.1 r1.lab\n10.99.2.2 r2.lab\n10.99.3.2 r3.lab\n10.99.4.2 target.lab\n",
    );
    await Deno.writeTextFile(
      `/etc/netns/${c}/resolv.conf`,
      "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    );
    // warm neighbour caches along the path
    await sh(["ip", "netns", "exec", c, "ping", "-c1", "-W3", TARGET_V4]);
    await sh(["ip", "netns", "exec", c, "ping", "-6", "-c1", "-W3", TARGET_V6], true);
  }

  /** Makes router `i` (1..3) drop the Time Exceeded messages it would send (a silent hop). */
  async silence(i: number): Promise<void> {
    const n = this.r[i - 1];
    await sh(["ip", "netns", "exec", n, "nft", "add", "table", "inet", "silent"]);
    await sh([
      "ip",
      "netns",
      "exec",
      n,
      "nft",
      "add",
      "chain",
      "inet",
      "silent",
      "out",
      "{ type filter hook output priority 0; }",
    ]);
    await sh([
      "ip",
      "netns",
      "exec",
      n,
      "nft",
      "add",
      "rule",
      "inet",
      "silent",
      "out",
      "icmp",
      "type",
      "time-exceeded",
      "drop",
    ]);
    await sh([
      "ip",
      "netns",
      "exec",
      n,
      "nft",
      "add",
      "rule",
      "inet",
      "silent",
      "out",
      "icmpv6",
      "type",
      "time-exceeded",
      "drop",
    ]);
  }

  /** Removes every namespace of the lab (tolerates missing ones). */
  async down(): Promise<void> {
    for (const n of this.all) await sh(["ip", "netns", "del", n], true);
    await Deno.remove(`/etc/netns/${this.client}`, { recursive: true }).catch(() => {});
  }

  /** Runs a command inside the client namespace. */
  async exec(
    args: string[],
    opts: { uid?: number } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const priv = opts.uid !== undefined ? await unprivilegedDeno() : undefined;
    const pre = opts.uid !== undefined
      ? ["setpriv", `--reuid=${opts.uid}`, `--regid=${opts.uid}`, "--clear-groups", "--inh-caps=-all"]
      : [];
    if (priv && args[0] === Deno.execPath()) args = [priv.bin, ...args.slice(1)];
    const out = await new Deno.Command("ip", {
      args: ["netns", "exec", this.client, ...pre, ...args],
      stdout: "piped",
      stderr: "piped",
      env: priv ? { DENO_DIR: priv.dir, HOME: "/tmp" } : {},
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs `switchyard trace ARGS` in the client namespace. */
export function trace(lab: Lab, args: string[], opts: { uid?: number } = {}) {
  return lab.exec([Deno.execPath(), "run", "-A", "--no-lock", MAIN, "trace", ...args], opts);
}
