/**
 * Small helpers shared by the benchmarks: ports, child processes, statistics and curl timing.
 *
 * @module
 */

/** A free TCP port on 127.0.0.1 (the kernel's pick; benchmarks run alone). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/**
 * Waits until a TCP connect to 127.0.0.1:`port` succeeds.
 * @throws {Error} After 15 s without success
 */
export async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`port ${port} never opened`);
}

/** Kills a child with SIGKILL (if still running) and waits for it. */
export async function stop(c: Deno.ChildProcess): Promise<void> {
  try {
    c.kill("SIGKILL");
  } catch { /* exited */ }
  await c.status;
}

/** Median of the samples (the upper middle one for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Downloads `url` with curl (extra `args` such as a proxy) and returns MB/s (10^6 bytes/s).
 * @throws {Error} When curl received anything but `size` bytes
 */
export async function curlSpeed(args: string[], url: string, size: number): Promise<number> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", ...args, url],
    stdout: "piped",
  }).output();
  const [speed, got] = new TextDecoder().decode(out.stdout).split(" ").map(Number);
  if (got !== size) throw new Error(`curl ${args.join(" ")} got ${got} of ${size} bytes`);
  return speed! / 1e6;
}
