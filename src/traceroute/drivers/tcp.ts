/**
 * TCP runs: SYN (serial, §5.3), SACK (parallel after a real handshake, §5.4) and the
 * `prefer_sack` fallback. IPv4 only, raw sockets required.
 *
 * @module
 */
import { allocIdBase, TcpSynProbe } from "../probe/tcp_syn.ts";
import { SackProbe, sackStateFromSynAck } from "../probe/sack.ts";
import type { ParsedPacket } from "../packets/frame.ts";
import { tcpFilter } from "../packets/cbpf.ts";
import { formatIP } from "../packets/addr.ts";
import { TCP_FLAG } from "../packets/transport.ts";
import { tracerouteParallel, tracerouteSerial } from "../scheduler.ts";
import { classifyError, OSError, SackNotSupportedError, wrap } from "../errors.ts";
import { endpoints, ipBytes, isPermissionError, localEndpoint, outcome, schedulerParams } from "./common.ts";
import { runTcpConnect } from "./tcp_connect.ts";
import { runSynSocket } from "./syn_socket.ts";
import { openPacketIO, type PacketIO, timestampsReady } from "./platform.ts";
import { QueueDriver } from "./queue_driver.ts";
import type { RunOutcome, RunSpec } from "./spec.ts";

/** A TCP method of `--tcp-method`. */
export type TcpMethod = "syn" | "sack" | "prefer_sack" | "syn_socket";

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Runs one TCP SYN traceroute. */
export async function runTcpSyn(spec: RunSpec): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  if (target.length !== 4) throw new Error("failed to create TCP filter: IPv6 is not supported");
  const local = await localEndpoint(target, spec.port);
  // reserve the source port with a listener, as the reference does
  let listener: Deno.Listener | null = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const lport = (listener.addr as Deno.NetAddr).port;
  if (Deno.build.os === "windows" && !spec.useDriver) {
    // the Windows raw-socket path must close reserved ports
    listener.close();
    listener = null;
  }
  try {
    const codec = new TcpSynProbe(
      endpoints(local.addr, lport, spec.target, spec.port),
      randomU32(),
      allocIdBase(spec.maxTtl),
      spec.minTtl,
      spec.maxTtl,
    );
    let io: PacketIO | null = null;
    const driver = new QueueDriver((ttl) => io!.send(codec.buildProbe(ttl), target));
    try {
      io = openPacketIO(
        false,
        tcpFilter({ src: target, sport: spec.port, dst: local.addr, dport: lport, withIcmp: true }),
        (p, t) => {
          const m = codec.match(p);
          if (m) driver.pushMatch(m, t);
        },
        {
          local: local.addr,
          useDriver: spec.useDriver,
          driverFilter: {
            type: "tcp",
            local: local.addr,
            localPort: lport,
            remote: target,
            remotePort: spec.port,
          },
        },
      );
    } catch (e) {
      if (!isPermissionError(e) || Deno.build.os !== "linux") throw e;
      spec.log(`raw sockets refused (${(e as Error).message}), using connect() with IP_RECVERR`);
      return await runTcpConnect(spec, local);
    }
    try {
      await timestampsReady();
      const probes = await tracerouteSerial(driver, schedulerParams(spec));
      return outcome(spec, { ip: formatIP(local.addr), port: lport }, spec.port, probes);
    } finally {
      io.close();
    }
  } finally {
    listener?.close();
  }
}

function dialError(target: string, port: number, e: unknown): SackNotSupportedError {
  const addr = `${target}:${port}`;
  let cause: unknown = e;
  let text = e instanceof Error ? e.message : String(e);
  if (classifyError(e) === "CONNREFUSED") {
    cause = new OSError("connect", 111);
    text = "connect: connection refused";
  } else if (e instanceof DOMException || (e instanceof Error && e.name === "AbortError")) {
    cause = new OSError("connect", 110);
    text = "i/o timeout";
  }
  return new SackNotSupportedError(
    `sack traceroute failed to dial: failed to dial ${addr}: dial tcp ${addr}: ${text}`,
    {
      cause,
    },
  );
}

async function runSackInner(spec: RunSpec): Promise<RunOutcome> {
  const target = ipBytes(spec.target);
  if (target.length !== 4) {
    throw new Error("invalid sack driver params: SACK traceroute does not support IPv6");
  }
  if (Deno.build.os === "windows" && !spec.useDriver) {
    // the raw-socket path must close its reserved ports, so the real connection cannot be used
    throw new SackNotSupportedError("SACK traceroute is not supported on this platform");
  }
  const local = await localEndpoint(target, spec.port);
  const localText = formatIP(local.addr);
  let lport = -1;
  let codec: SackProbe | null = null;
  let driver!: QueueDriver;
  // SYN-ACKs seen before connect() resolves (the local port is not known yet)
  const seen: ParsedPacket[] = [];
  let onSynAck: ((p: ParsedPacket) => void) | null = null;
  let io: PacketIO;
  try {
    io = openPacketIO(
      false,
      tcpFilter({ src: target, sport: spec.port, withIcmp: false, synAckOnly: true }),
      (p, t) => {
        if (!codec) {
          if (p.tcp) onSynAck ? onSynAck(p) : seen.push(p);
          return;
        }
        try {
          const m = codec.match(p);
          if (m) driver.pushMatch(m, t);
        } catch (e) {
          driver.pushFatal(e);
        }
      },
      {
        local: local.addr,
        useDriver: spec.useDriver,
        driverFilter: { type: "synack", remote: target, remotePort: spec.port },
      },
    );
  } catch (e) {
    // without raw sockets SACK cannot run at all; prefer_sack then falls back to SYN
    if (isPermissionError(e)) throw new SackNotSupportedError((e as Error).message, { cause: e });
    throw e;
  }

  const isOurSynAck = (p: ParsedPacket) =>
    p.ip.src === spec.target && p.ip.dst === localText && p.tcp!.dport === lport &&
    (p.tcp!.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
  let conn: Deno.TcpConn | null = null;
  try {
    spec.log(`sack traceroute dialing ${spec.target}:${spec.port}`);
    try {
      conn = await Deno.connect({
        hostname: spec.target,
        port: spec.port,
        signal: AbortSignal.timeout(Math.max(spec.timeoutMs, 1)),
      });
    } catch (e) {
      throw dialError(spec.target, spec.port, e);
    }
    const la = conn.localAddr as Deno.NetAddr;
    if (la.hostname !== localText) {
      throw new Error(
        `tcp conn negotiated a different local addr than expected: ${la.hostname} != ${localText}`,
      );
    }
    lport = la.port;
    // the SYN-ACK was captured during connect(); give it 500 ms to be read
    let timer: ReturnType<typeof setTimeout> | undefined;
    const synAck = await new Promise<ParsedPacket | null>((resolve) => {
      const found = seen.find(isOurSynAck);
      if (found) return resolve(found);
      onSynAck = (p) => isOurSynAck(p) && resolve(p);
      timer = setTimeout(() => resolve(null), 500);
    });
    clearTimeout(timer);
    if (!synAck) {
      throw new Error("sack traceroute failed to read handshake: sackDriver readHandshake timed out");
    }
    const state = sackStateFromSynAck(synAck.tcp!, `${spec.target}:${spec.port}`);
    codec = new SackProbe(
      endpoints(local.addr, lport, spec.target, spec.port),
      state,
      spec.minTtl,
      spec.maxTtl,
    );
    io.setFilter(tcpFilter({ src: target, sport: spec.port, dst: local.addr, dport: lport, withIcmp: true }));
    const c = codec;
    driver = new QueueDriver((ttl) => io.send(c.buildProbe(ttl), target));
    await timestampsReady();
    const probes = await tracerouteParallel(driver, schedulerParams(spec, 10));
    return outcome(spec, { ip: localText, port: lport }, spec.port, probes);
  } finally {
    try {
      conn?.close();
    } catch { /* already closed */ }
    io.close();
  }
}

/** Runs one SACK traceroute. @throws {SackNotSupportedError} If the target cannot do SACK. */
export async function runSack(spec: RunSpec): Promise<RunOutcome> {
  try {
    return await runSackInner(spec);
  } catch (e) {
    throw wrap("sack traceroute failed", e);
  }
}

function hasNotSupported(e: unknown): boolean {
  for (let cur: unknown = e; cur; cur = cur instanceof Error ? cur.cause : undefined) {
    if (cur instanceof SackNotSupportedError) return true;
  }
  return false;
}

/** Runs one TCP traceroute with `method`, including the `prefer_sack` fallback to SYN. */
export async function runTcp(spec: RunSpec, method: string): Promise<RunOutcome> {
  switch (method === "" ? "syn" : method) {
    case "syn":
      return await runTcpSyn(spec);
    case "sack":
      return await runSack(spec);
    case "syn_socket":
      if (Deno.build.os === "windows") return await runSynSocket(spec);
      throw new Error("not implemented or supported on unix"); // the reference's exact text (tcp/seqsocket_unix.go)
    case "prefer_sack":
      try {
        return await runSack(spec);
      } catch (e) {
        if (hasNotSupported(e)) {
          spec.log(`SACK not supported, falling back to SYN: ${(e as Error).message}`);
          return await runTcpSyn(spec);
        }
        throw wrap("SACK traceroute failed fatally, not falling back", e);
      }
    default:
      throw new Error(`unexpected TCPMethod: ${method}`);
  }
}
