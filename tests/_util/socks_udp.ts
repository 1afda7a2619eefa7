/**
 * A minimal SOCKS5 UDP ASSOCIATE client for tests, plus a UDP echo server.
 * @module
 */
import {
  decodeReply,
  decodeUdpDatagram,
  encodeGreeting,
  encodeRequest,
  encodeUdpDatagram,
} from "../../src/protocol/socks/socks5.ts";

async function readAtLeast(c: Deno.Conn, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(512);
  let got = 0;
  while (got < n) {
    const r = await c.read(buf.subarray(got));
    if (r === null) throw new Error("closed during SOCKS handshake");
    got += r;
  }
  return buf.subarray(0, got);
}

/** Starts a UDP echo server on loopback. */
export function startUdpEcho(): { port: number; close(): void } {
  const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  (async () => {
    try {
      for (;;) {
        const [data, addr] = await s.receive();
        await s.send(data, addr);
      }
    } catch { /* closed */ }
  })();
  return { port: (s.addr as Deno.NetAddr).port, close: () => s.close() };
}

/** One SOCKS5 UDP association: send datagrams to any target, receive replies with their source. */
export interface Socks5UdpAssociation {
  send(target: { host: string; port: number }, payload: Uint8Array): Promise<void>;
  /** The next reply; rejects after 5 s or when the proxy ends the association. */
  receive(): Promise<{ data: Uint8Array; from: { host: string; port: number } }>;
  close(): void;
}

/** Opens a UDP association through a SOCKS5 proxy (no authentication). */
export async function socks5UdpAssociate(proxyPort: number): Promise<Socks5UdpAssociation> {
  const control = await Deno.connect({ hostname: "127.0.0.1", port: proxyPort });
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let relay: { host: string; port: number };
  try {
    await control.write(encodeGreeting([0]));
    const sel = await readAtLeast(control, 2);
    if (sel[1] !== 0) throw new Error(`method ${sel[1]}`);
    await control.write(encodeRequest(3, { host: "0.0.0.0", port: 0 }));
    let buf = new Uint8Array(0);
    let reply = null;
    while (!reply) {
      const more = await readAtLeast(control, 1);
      const next = new Uint8Array(buf.length + more.length);
      next.set(buf);
      next.set(more, buf.length);
      buf = next;
      reply = decodeReply(buf);
    }
    if (reply.value.code !== 0) throw new Error(`UDP ASSOCIATE refused with ${reply.value.code}`);
    relay = reply.value.address;
  } catch (e) {
    udp.close();
    control.close();
    throw e;
  }
  const host = relay.host === "0.0.0.0" ? "127.0.0.1" : relay.host;
  // The association ends when the proxy closes the control connection (RFC 1928 §7).
  const closed = (async () => {
    const b = new Uint8Array(16);
    try {
      while (await control.read(b) !== null) { /* ignore */ }
    } catch { /* closed */ }
    throw new Error("proxy closed the UDP association");
  })();
  closed.catch(() => {});
  return {
    async send(target, payload) {
      await udp.send(encodeUdpDatagram(target, payload), {
        transport: "udp",
        hostname: host,
        port: relay.port,
      });
    },
    async receive() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, rej) =>
        timer = setTimeout(() => rej(new Error("no UDP reply in 5 s")), 5000)
      );
      try {
        const [data] = await Promise.race([udp.receive(), timeout, closed]);
        const d = decodeUdpDatagram(data);
        return { data: d.data.slice(), from: d.address };
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      udp.close();
      control.close();
    },
  };
}

/**
 * Sends `payload` through a SOCKS5 proxy's UDP association to `target` and returns the reply
 * payload with the address the proxy reported.
 */
export async function socks5UdpRoundTrip(
  proxyPort: number,
  target: { host: string; port: number },
  payload: Uint8Array,
): Promise<{ data: Uint8Array; from: { host: string; port: number } }> {
  const a = await socks5UdpAssociate(proxyPort);
  try {
    await a.send(target, payload);
    return await a.receive();
  } finally {
    a.close();
  }
}
