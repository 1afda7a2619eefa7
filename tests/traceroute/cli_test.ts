/** CLI surface checks that need no privileges and send no traffic. */
import { assert, assertEquals } from "./_assert.ts";
import { normalizeBoolFlags } from "../../src/cli/trace.ts";
import { parseListenAddr } from "../../src/cli/trace_server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("normalizeBoolFlags() accepts pflag --flag=bool forms", () => {
  assertEquals(normalizeBoolFlags(["--ipv6=true", "--reverse-dns=0", "--port=80", "x"]), [
    "--ipv6",
    "--port=80",
    "x",
  ]);
  let msg = "";
  try {
    normalizeBoolFlags(["--verbose=yes"]);
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes('invalid argument "yes" for "--verbose" flag'), msg);
});

Deno.test("parseListenAddr() splits Go listen addresses", () => {
  assertEquals(parseListenAddr(":3765"), { hostname: "0.0.0.0", port: 3765 });
  assertEquals(parseListenAddr("127.0.0.1:80"), { hostname: "127.0.0.1", port: 80 });
  assertEquals(parseListenAddr("[::1]:80"), { hostname: "::1", port: 80 });
});

Deno.test("switchyard trace --help lists every flag and default of the reference", async () => {
  const r = await run(["trace", "--help"]);
  assertEquals(r.code, 0);
  for (
    const flag of [
      "-P, --proto",
      "-p, --port",
      "-q, --traceroute-queries",
      "-m, --max-ttl",
      "-v, --verbose",
      "--tcp-method",
      "--ipv6",
      "--timeout",
      "--reverse-dns",
      "--source-public-ip",
      "-Q, --e2e-queries",
      "--windows-driver",
      "--skip-private-hops",
    ]
  ) assert(r.stdout.includes(flag), flag);
  const text = r.stdout.replace(/\s+/g, " ");
  for (const d of ['"udp"', "33434", "3000", '"syn"', "50", "30"]) {
    assert(text.includes(`(default: ${d})`), d);
  }
});

Deno.test("switchyard trace-server rejects an unknown --log-level and trace needs one target", async () => {
  const a = await run(["trace-server", "-l", "verbose"]);
  assertEquals(a.code, 1);
  assert(a.stderr.includes("invalid log level: verbose"), a.stderr);
  const b = await run(["trace"]);
  assertEquals(b.code, 1);
  assert(b.stderr.includes("missing required argument 'target'"), b.stderr);
  const c = await run(["trace", "a", "b"]);
  assertEquals(c.code, 1);
});
