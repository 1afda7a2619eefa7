/**
 * End-to-end tests in a namespace lab built by the test (3 routers, nothing listening on the
 * target): CLI and server, every protocol, a silent hop, error paths and the unprivileged mode.
 * Needs root on Linux; skipped otherwise.
 */
import { assert, assertEquals } from "./_assert.ts";
import {
  cleanupUnprivileged,
  CLIENT_V4,
  HOPS_V4,
  HOPS_V6,
  Lab,
  labAvailable,
  setPingGroupRange,
  TARGET_V4,
  TARGET_V6,
  trace,
} from "./_lab.ts";

const ignore = !labAvailable();
const COMMON = ["-q", "3", "-Q", "4", "-m", "8", "--timeout", "500"];

// deno-lint-ignore no-explicit-any
type Json = any;

/** The e2e harness's checks (spec §9) plus the exact hop list. */
function checkResults(d: Json, protocol: string, target: string, port: number | null, hops: string[], q = 4) {
  assertEquals(d.protocol, protocol);
  assertEquals(d.destination.hostname, target);
  if (port !== null) assertEquals(d.destination.port, port);
  assert(/^[A-Za-z0-9_-]{22}$/.test(d.test_run_id));
  assertEquals(d.traceroute.runs.length, 3);
  for (const run of d.traceroute.runs) {
    assert(/^[A-Za-z0-9_-]{22}$/.test(run.run_id));
    assertEquals(run.hops.map((h: Json) => h.ip_address), hops, JSON.stringify(run.hops));
    assertEquals(run.hops.map((h: Json) => h.ttl), hops.map((_, i) => i + 1));
    const last = run.hops.at(-1);
    assert(last.reachable && last.rtt > 0);
    assertEquals(last.ip_address, run.destination.ip_address);
    for (const h of run.hops) if (h.reachable) assert(h.rtt > 0, JSON.stringify(h));
  }
  assertEquals(d.traceroute.hop_count, { avg: hops.length, min: hops.length, max: hops.length });
  assertEquals(d.e2e_probe.rtts.length, q);
  assertEquals(d.e2e_probe.packets_sent, q);
  assertEquals(d.e2e_probe.packets_received, q);
  assertEquals(d.e2e_probe.packet_loss_percentage, 0);
  assert(d.e2e_probe.rtt.min > 0 && d.e2e_probe.rtt.max >= d.e2e_probe.rtt.min && d.e2e_probe.rtt.avg < 5000);
}

async function cli(lab: Lab, args: string[], uid?: number): Promise<Json> {
  const r = await trace(lab, args, { uid });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "", "no logs without -v");
  assert(
    r.stdout.startsWith('{\n  "test_run_id"') && r.stdout.endsWith("}\n"),
    "pretty JSON with a trailing newline",
  );
  return JSON.parse(r.stdout);
}

Deno.test({
  name: "trace CLI in a 3-router lab: every protocol returns every hop in order",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const lab = await Lab.up();
    try {
      for (const proto of ["icmp", "udp"]) {
        await t.step(`${proto} IPv4`, async () => {
          const d = await cli(lab, ["-P", proto, ...COMMON, TARGET_V4]);
          checkResults(d, proto, TARGET_V4, 33434, HOPS_V4);
          for (const run of d.traceroute.runs) {
            assertEquals(run.source.ip_address, CLIENT_V4);
            assertEquals(run.destination.port, proto === "icmp" ? 0 : 33434);
          }
        });
        await t.step(`${proto} IPv6`, async () => {
          const d = await cli(lab, ["-P", proto, "--ipv6", ...COMMON, TARGET_V6]);
          checkResults(d, proto, TARGET_V6, 33434, HOPS_V6);
        });
      }
      for (const method of ["syn", "prefer_sack"]) {
        await t.step(`tcp/${method}`, async () => {
          const d = await cli(lab, ["-P", "tcp", "--tcp-method", method, "-p", "8080", ...COMMON, TARGET_V4]);
          checkResults(d, "tcp", TARGET_V4, 8080, HOPS_V4);
          for (const run of d.traceroute.runs) assertEquals(run.destination.port, 8080);
        });
      }
      await t.step("tcp/sack: SACK not supported (connection refused)", async () => {
        const r = await trace(lab, ["-P", "tcp", "--tcp-method", "sack", ...COMMON, TARGET_V4]);
        assertEquals(r.code, 1);
        assertEquals(r.stdout, "");
        assert(r.stderr.startsWith("Error: failed to run traceroute: sack traceroute failed: "), r.stderr);
        assert(r.stderr.includes("SACK not supported for this target/source"), r.stderr);
        assert(r.stderr.includes("connection refused"));
        assert(r.stderr.includes("Usage: switchyard trace"), "usage follows the error");
      });
      await t.step(
        "--reverse-dns names hops from the resolver; --skip-private-hops blanks them",
        async () => {
          const d = await cli(lab, [
            "-P",
            "icmp",
            "--reverse-dns",
            "--source-public-ip",
            ...COMMON,
            TARGET_V4,
          ]);
          const run = d.traceroute.runs[0];
          assertEquals(run.hops[1].reverse_dns, ["r2.lab."]);
          assertEquals(run.destination.reverse_dns, ["target.lab."]);
          assertEquals(d.source.public_ip, "", "no Internet: public IP lookup fails cleanly");
          const s = await cli(lab, ["-P", "udp", "--skip-private-hops", ...COMMON, TARGET_V4]);
          for (const r of s.traceroute.runs) {
            assertEquals(
              r.hops.map((h: Json) => [h.ip_address, h.rtt, h.reachable]),
              HOPS_V4.map(() => ["", 0, false]),
            );
            assertEquals(r.destination.ip_address, TARGET_V4);
          }
          assertEquals(s.traceroute.hop_count.max, 4, "stats computed before removal");
        },
      );
      await t.step("-v logs to stderr, JSON stays on stdout", async () => {
        const r = await trace(lab, ["-P", "icmp", "-v", "-q", "1", "-Q", "0", "-m", "5", TARGET_V4]);
        assertEquals(r.code, 0);
        assert(r.stderr.includes('Running traceroute with params: {"hostname":"10.99.4.2"'), r.stderr);
        assertEquals(JSON.parse(r.stdout).traceroute.runs.length, 1);
      });
      await t.step("a hop that drops Time Exceeded shows as unanswered", async () => {
        await lab.silence(2);
        for (const args of [["-P", "icmp"], ["-P", "udp"], ["-P", "tcp"]]) {
          const d = await cli(lab, [...args, ...COMMON, TARGET_V4]);
          for (const run of d.traceroute.runs) {
            assertEquals(run.hops.map((h: Json) => h.ip_address), [HOPS_V4[0], "", HOPS_V4[2], HOPS_V4[3]]);
            assertEquals(run.hops[1], { ttl: 2, ip_address: "", rtt: 0, reachable: false });
          }
        }
      });
    } finally {
      await lab.down();
    }
  },
});

Deno.test({
  name: "trace CLI error paths and the unprivileged mode",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const lab = await Lab.up();
    try {
      await t.step("unknown protocol, bad port, missing target, unresolvable name", async () => {
        const cases: [string[], string][] = [
          [["-P", "sctp", TARGET_V4], 'Error: failed to run traceroute: unknown protocol: "sctp"'],
          [["-P", "UDP", TARGET_V4], 'unknown protocol: "UDP"'],
          [["-p", "70000", TARGET_V4], "invalid port: 70000"],
          [["-P", "tcp", "--tcp-method", "fast", TARGET_V4], "unexpected TCPMethod: fast"],
          [["no-such-host.invalid"], 'failed to resolve host "no-such-host.invalid"'],
          [["-m", "0", TARGET_V4], "min TTL must be less than or equal to max TTL"],
          [[], "error: missing required argument 'target'"],
          [["--port", "x", TARGET_V4], 'invalid argument "x" for "--port" flag'],
          [["--ipv6=maybe", TARGET_V4], 'invalid argument "maybe" for "--ipv6" flag'],
        ];
        for (const [args, want] of cases) {
          const r = await trace(lab, args.length ? ["-Q", "0", "-q", "1", "-m", "5", ...args] : ["-Q", "0"]);
          assertEquals(r.code, 1, `${args}: ${r.stdout}`);
          assert(r.stderr.includes(want), `${args}: ${r.stderr}`);
          assertEquals(r.stdout, "");
        }
      });
      await t.step("--ipv6=false and -Pudp shorthand parse like pflag", async () => {
        const d = await cli(lab, [
          "-Pudp",
          "--ipv6=false",
          "--reverse-dns=0",
          "-q",
          "3",
          "-Q",
          "4",
          "-m",
          "8",
          "--timeout=500",
          TARGET_V4,
        ]);
        checkResults(d, "udp", TARGET_V4, 33434, HOPS_V4);
      });
      await t.step("non-root UDP uses IP_RECVERR and gives the same hops", async () => {
        const d = await cli(lab, ["-P", "udp", ...COMMON, TARGET_V4], 65534);
        checkResults(d, "udp", TARGET_V4, 33434, HOPS_V4);
      });
      await t.step("non-root TCP SYN uses connect() + IP_RECVERR; prefer_sack falls back to it", async () => {
        for (const method of ["syn", "prefer_sack"]) {
          const d = await cli(
            lab,
            ["-P", "tcp", "--tcp-method", method, "-p", "8080", ...COMMON, TARGET_V4],
            65534,
          );
          checkResults(d, "tcp", TARGET_V4, 8080, HOPS_V4);
        }
        const r = await trace(lab, ["-P", "tcp", "--tcp-method", "sack", "-q", "1", "-Q", "0", TARGET_V4], {
          uid: 65534,
        });
        assertEquals(r.code, 1);
        assert(r.stderr.includes("SACK not supported for this target/source"), r.stderr);
      });
      await t.step("non-root ICMP with ping sockets allowed uses them", async () => {
        await setPingGroupRange(lab, true);
        const d = await cli(lab, ["-P", "icmp", ...COMMON, TARGET_V4], 65534);
        checkResults(d, "icmp", TARGET_V4, 33434, HOPS_V4);
      });
      await t.step("non-root ICMP without ping sockets fails with a permission error", async () => {
        await setPingGroupRange(lab, false);
        const r = await trace(lab, ["-P", "icmp", "-q", "1", "-Q", "0", TARGET_V4], { uid: 65534 });
        assertEquals(r.code, 1);
        assert(/operation not permitted|permission denied/.test(r.stderr), r.stderr);
      });
    } finally {
      await cleanupUnprivileged();
      await lab.down();
    }
  },
});

Deno.test({
  name: "trace-server in the lab: every protocol over HTTP, SACK error code, health",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const lab = await Lab.up();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const server = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lab.client,
        Deno.execPath(),
        "run",
        "-A",
        "--no-lock",
        main,
        "trace-server",
        "--addr",
        `127.0.0.1:${port}`,
        "-l",
        "debug",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const curl = async (path: string) => {
      const r = await lab.exec([
        "curl",
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code} %{content_type}",
        `http://127.0.0.1:${port}${path}`,
      ]);
      const lines = r.stdout.split("\n");
      const [status, type] = lines.at(-1)!.split(" ");
      return { status: Number(status), type, body: lines.slice(0, -1).join("\n") + "\n" };
    };
    try {
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        up = (await curl("/health")).status === 200;
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      assert(up, "server came up");
      const q = `traceroute-queries=3&e2e-queries=4&max-ttl=8&timeout=500`;
      const cases: [string, string, number | null][] = [
        ["icmp", `protocol=icmp`, 33434],
        ["udp", `protocol=udp`, 33434],
        ["tcp", `protocol=tcp&port=8080&tcp-method=`, 8080],
        ["tcp", `protocol=tcp&port=8080&tcp-method=prefer_sack`, 8080],
      ];
      for (const [proto, extra, p] of cases) {
        await t.step(extra, async () => {
          const r = await curl(`/traceroute?target=${TARGET_V4}&${extra}&${q}`);
          assertEquals(r.status, 200, r.body);
          assertEquals(r.type, "application/json");
          assert(!r.body.includes("\n  "), "compact JSON");
          checkResults(JSON.parse(r.body), proto, TARGET_V4, p, HOPS_V4);
        });
      }
      await t.step("tcp-method=sack: 500 CONNREFUSED with the SACK message", async () => {
        const r = await curl(`/traceroute?target=${TARGET_V4}&protocol=tcp&tcp-method=sack&${q}`);
        assertEquals(r.status, 500);
        const j = JSON.parse(r.body);
        assertEquals(j.code, "CONNREFUSED");
        assert(j.message.includes("SACK not supported for this target/source"), j.message);
        assertEquals(j.message.split("\n").length, 1, "three identical errors de-duplicated");
      });
      await t.step("errors: missing target, bad protocol, unresolvable name", async () => {
        const a = await curl(`/traceroute?protocol=udp`);
        assertEquals([a.status, JSON.parse(a.body).code], [400, "INVALID_REQUEST"]);
        const b = await curl(`/traceroute?target=${TARGET_V4}&protocol=gre&e2e-queries=0`);
        assertEquals([b.status, JSON.parse(b.body).code], [400, "INVALID_REQUEST"]);
        const c = await curl(`/traceroute?target=nowhere.invalid&e2e-queries=0`);
        assertEquals([c.status, JSON.parse(c.body).code], [500, "DNS"]);
      });
    } finally {
      try {
        server.kill("SIGTERM");
      } catch { /* already gone */ }
      const out = await server.output();
      const log = new TextDecoder().decode(out.stderr);
      await lab.down();
      assert(log.includes(`Starting traceroute HTTP server on 127.0.0.1:${port}`), log);
    }
  },
});
