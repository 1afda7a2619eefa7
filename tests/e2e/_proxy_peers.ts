/**
 * Helpers for the proxy-protocol interop tests: a throw-away TLS certificate, peer daemons
 * with configs written to a temp dir, and checks through a Switchyard mixed inbound.
 *
 * @module
 */
import { assertEquals } from "../_util/assert.ts";
import {
  curl,
  type Daemon,
  freePort,
  HELLO,
  run,
  spawnDaemon,
  startSwitchyard,
  waitForPort,
} from "../_util/mod.ts";
import { socks5UdpAssociate, socks5UdpRoundTrip } from "../_util/socks_udp.ts";

/** A self-signed leaf certificate for `localhost` and 127.0.0.1 (not a CA, so it can be pinned). */
export interface TestCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/** Creates a certificate in `dir` with openssl. */
export async function makeCert(dir: string): Promise<TestCert> {
  const certPath = `${dir}/cert.pem`, keyPath = `${dir}/key.pem`;
  const r = await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
  ]);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return {
    certPath,
    keyPath,
    cert: await Deno.readTextFile(certPath),
    key: await Deno.readTextFile(keyPath),
  };
}

/** Starts a peer with a JSON config written to `dir/name`; waits for `ports`. */
export async function startPeer(
  cmd: string,
  args: (configPath: string) => string[],
  config: unknown,
  dir: string,
  name: string,
  ports: number[],
): Promise<Daemon> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  const d = spawnDaemon(cmd, args(path));
  try {
    for (const p of ports) await waitForPort(p, 10_000);
  } catch (e) {
    await d.stop("SIGKILL");
    throw new Error(`${cmd} did not start: ${(e as Error).message}\n${d.output()}`);
  }
  return d;
}

/** Fetches `/hello.txt` from the origin through a SOCKS5 proxy and checks the body. */
export async function assertCurl(
  proxyPort: number,
  originPort: number,
  label: string,
  logs: () => string,
): Promise<void> {
  const r = await curl([
    "--socks5-hostname",
    `127.0.0.1:${proxyPort}`,
    `http://127.0.0.1:${originPort}/hello.txt`,
  ]);
  assertEquals(r.stdout, HELLO, `${label}: curl rc ${r.code} ${r.stderr}\n${logs().slice(-3000)}`);
}

/** Downloads `n` bytes through the proxy and checks the size (exercises many chunks). */
export async function assertBulk(
  proxyPort: number,
  originPort: number,
  n: number,
  label: string,
): Promise<void> {
  const r = await curl([
    "-o",
    "/dev/null",
    "-w",
    "%{size_download}",
    "--socks5-hostname",
    `127.0.0.1:${proxyPort}`,
    `http://127.0.0.1:${originPort}/bytes?n=${n}`,
  ]);
  assertEquals(r.stdout, String(n), `${label}: bulk download rc ${r.code} ${r.stderr}`);
}

/** Round-trips a datagram through the proxy's UDP ASSOCIATE to the echo server. */
export async function assertUdp(proxyPort: number, echoPort: number, label: string): Promise<void> {
  const payload = new TextEncoder().encode(`ping-${label}`);
  const r = await socks5UdpRoundTrip(proxyPort, { host: "127.0.0.1", port: echoPort }, payload);
  assertEquals(new TextDecoder().decode(r.data), `ping-${label}`, `${label}: UDP echo`);
}

/**
 * One UDP association to two echo servers in turn (A, B, A): each reply must come back from the
 * server it was sent to ("full-cone": per-datagram addresses through the proxy).
 */
export async function assertUdpTwoPeers(proxyPort: number, echoPorts: [number, number], label: string) {
  const a = await socks5UdpAssociate(proxyPort);
  try {
    for (const [i, port] of [echoPorts[0], echoPorts[1], echoPorts[0]].entries()) {
      const text = `${label}-${i}`;
      await a.send({ host: "127.0.0.1", port }, new TextEncoder().encode(text));
      const r = await a.receive();
      assertEquals(
        [new TextDecoder().decode(r.data), r.from.port],
        [text, port],
        `${label}: datagram ${i} to port ${port}`,
      );
    }
  } finally {
    a.close();
  }
}

/** One Switchyard↔Switchyard case: name, server inbound and client outbound (without tag/ports). */
export type PairCase = [name: string, inbound: Record<string, unknown>, outbound: Record<string, unknown>];

/** A running Switchyard server and client for {@linkcode PairCase}s. */
export interface SwitchyardPair {
  /** Server ports, by case index. */
  sp: number[];
  /** Client mixed-inbound ports, by case index: traffic to `cp[i]` leaves by case `i`'s outbound. */
  cp: number[];
  /** Both processes' output, for assertion messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts a server with each case's inbound (plus `extra.inbounds`, listening on `extra.ports`)
 * and a direct outbound, and a client whose mixed inbound `i` routes to case `i`'s outbound.
 */
export async function startSwitchyardPair(
  cases: PairCase[],
  extra: { inbounds?: Record<string, unknown>[]; ports?: number[] } = {},
): Promise<SwitchyardPair> {
  const sp = cases.map(() => freePort());
  const cp = cases.map(() => freePort());
  const server = await startSwitchyard({
    log: { level: "warn" },
    inbounds: [
      ...cases.map(([name, inb], i) => ({ tag: name, listen: "127.0.0.1", listen_port: sp[i], ...inb })),
      ...(extra.inbounds ?? []),
    ],
    outbounds: [{ type: "direct", tag: "direct" }],
  }, [...sp, ...(extra.ports ?? [])]);
  let client;
  try {
    client = await startSwitchyard({
      log: { level: "warn" },
      inbounds: cases.map(([name], i) => ({
        type: "mixed",
        tag: `in-${name}`,
        listen: "127.0.0.1",
        listen_port: cp[i],
      })),
      outbounds: cases.map(([name, , out], i) => ({
        tag: name,
        server: "127.0.0.1",
        server_port: sp[i],
        ...out,
      })),
      route: { rules: cases.map(([name]) => ({ inbound: [`in-${name}`], outbound: name })) },
    }, cp);
  } catch (e) {
    await server.stop();
    throw e;
  }
  const c = client;
  return {
    sp,
    cp,
    logs: () => c.output() + "\n--- server ---\n" + server.output(),
    async stop() {
      await c.stop();
      await server.stop();
    },
  };
}
