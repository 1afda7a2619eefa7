/**
 * Real DNS peers for tests: dnsmasq and unbound started on free loopback ports, and a test CA
 * plus server certificate made with openssl. Each peer is a child process the test closes.
 *
 * @module
 */

/** True when `name` is on PATH (or in /usr/sbin). */
export function hasCommand(name: string): boolean {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]) {
    try {
      Deno.statSync(`${dir}/${name}`);
      return true;
    } catch { /* next */ }
  }
  return false;
}

/** A free port on 127.0.0.1 for both TCP and UDP (best effort). */
import { freePort } from "../_util/mod.ts";
export { freePort };

/** A running peer. */
export interface Peer {
  port: number;
  /** Extra ports (unbound: `tls`, `https`). */
  ports: Record<string, number>;
  close(): Promise<void>;
}

async function waitUdp(port: number, timeoutMs = 5000, host = "127.0.0.1"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // A minimal query for "." NS; any answer means the server is up.
  const query = new Uint8Array([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
  while (Date.now() < deadline) {
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      await sock.send(query, { transport: "udp", hostname: host, port });
      const got = await Promise.race([
        sock.receive(),
        new Promise<null>((r) => setTimeout(() => r(null), 200)),
      ]);
      if (got) return;
    } catch {
      /* not yet */
    } finally {
      sock.close();
    }
  }
  throw new Error(`DNS peer on port ${port} did not answer within ${timeoutMs} ms`);
}

async function waitTcp(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`TCP port ${port} did not open within ${timeoutMs} ms`);
}

function spawn(cmd: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* exited */ }
  await child.stderr.cancel().catch(() => {});
  await child.status;
}

/**
 * Starts dnsmasq answering `x.test` (and subdomains) with 10.99.9.9 and `::99`, a TXT record set
 * big enough to be truncated over plain UDP at `big.test`, and NXDOMAIN for other `.test` names.
 */
export async function startDnsmasq(
  extraArgs: string[] = [],
  listen = "127.0.0.1",
  fixedPort?: number,
): Promise<Peer> {
  const port = fixedPort ?? freePort();
  const big = Array.from(
    { length: 12 },
    (_, i) => `--txt-record=big.test,${String(i).padStart(2, "0")}${"t".repeat(60)}`,
  );
  const child = spawn("dnsmasq", [
    "-d",
    "-k",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    `--listen-address=${listen}`,
    "--bind-interfaces",
    `--port=${port}`,
    "--address=/x.test/10.99.9.9",
    "--address=/x.test/fd00::99",
    "--address=/test/",
    "--local-ttl=300",
    ...big,
    ...extraArgs,
  ]);
  try {
    await waitUdp(port, 5000, listen);
  } catch (e) {
    await stop(child);
    throw e;
  }
  return { port, ports: {}, close: () => stop(child) };
}

/** A CA and a server certificate for `dns.test` and 127.0.0.1 in a temp directory. */
export interface TestCert {
  dir: string;
  caPem: string;
  certPath: string;
  keyPath: string;
}

/** Generates a CA and a leaf certificate with openssl. */
export async function makeTestCert(): Promise<TestCert> {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-dns-cert-" });
  const run = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  };
  await run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Switchyard Test CA",
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:dns.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=dns.test",
  ]);
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ]);
  return {
    dir,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    certPath: `${dir}/server.pem`,
    keyPath: `${dir}/server.key`,
  };
}

/**
 * Starts unbound as an authoritative-style resolver for the `test.` zone on plain DNS, DoT
 * (`ports.tls`) and DoH (`ports.https`, path `/dns-query`).
 */
export async function startUnbound(cert: TestCert): Promise<Peer> {
  const port = freePort();
  const tls = freePort();
  const https = freePort();
  const conf = `${cert.dir}/unbound-${port}.conf`;
  await Deno.writeTextFile(
    conf,
    `server:
  verbosity: 0
  username: ""
  chroot: ""
  directory: "${cert.dir}"
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-daemonize: no
  interface: 127.0.0.1@${port}
  interface: 127.0.0.1@${tls}
  interface: 127.0.0.1@${https}
  tls-port: ${tls}
  https-port: ${https}
  tls-service-key: "${cert.keyPath}"
  tls-service-pem: "${cert.certPath}"
  http-endpoint: "/dns-query"
  http-notls-downstream: no
  access-control: 127.0.0.0/8 allow
  do-ip6: no
  module-config: "iterator"
  local-zone: "test." nodefault
  local-zone: "test." static
  local-data: "u.test. 120 IN A 10.88.8.8"
  local-data: "u.test. 120 IN AAAA fd00::88"
  local-data: "priv.test. 120 IN A 192.168.7.7"
  local-data: "pub.test. 120 IN A 8.8.4.4"
  local-data: "multi.test. 30 IN A 10.1.0.1"
  local-data: "multi.test. 30 IN A 10.1.0.2"
  local-data: "txt.test. 60 IN TXT \\"hello\\""
  local-data: "test. 3600 IN SOA ns.test. admin.test. 1 3600 600 86400 45"
`,
  );
  const child = spawn("unbound", ["-d", "-p", "-c", conf]);
  try {
    await waitUdp(port);
    await waitTcp(tls);
    await waitTcp(https);
  } catch (e) {
    await stop(child);
    const err = await new Response(child.stderr).text().catch(() => "");
    throw new Error(`unbound did not start: ${(e as Error).message} ${err}`);
  }
  return { port, ports: { tls, https }, close: () => stop(child) };
}
