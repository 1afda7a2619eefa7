/**
 * The `paniq socks` front end (paniq.md §6.1–6.2): a SOCKS5 CONNECT server with optional
 * RFC 1929 user/password whose sessions go through a {@linkcode PaniqClient}.
 *
 * Divergences from Go, documented: the success reply carries `0.0.0.0:0` as Go's does, but an
 * unsupported ATYP gets 0x08 instead of 0x01, and `workers` does not queue sessions — every
 * accepted connection up to `max_connections` is served at once.
 *
 * @module
 */
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import type { Logger } from "../../common/log.ts";
import { withPrefix } from "../../common/prefixed_stream.ts";
import { relay } from "../../common/relay.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { PaniqMetrics } from "../../protocol/paniq/metrics.ts";
import * as S from "../../protocol/socks/socks5.ts";
import type { PaniqClient } from "./client.ts";
import type { Stream } from "../../adapter/types.ts";
import { CountingStream } from "./counting_stream.ts";

/** Options of {@linkcode SocksDaemon}. */
export interface SocksDaemonOptions {
  hostname: string;
  port: number;
  username?: string;
  password?: string;
  maxConnections: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  client: PaniqClient;
  metrics: PaniqMetrics;
  log: Logger;
}

/** A running SOCKS5 daemon. */
export class SocksDaemon {
  readonly #listener: Deno.TcpListener;
  readonly #o: SocksDaemonOptions;
  readonly #conns = new Set<Stream>();

  constructor(o: SocksDaemonOptions) {
    this.#o = o;
    this.#listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
    this.#acceptLoop().catch(() => {});
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.#listener) {
      this.#o.metrics.reconnects++; // Go counts accepted TCP connections under this name (§9)
      if (this.#conns.size >= this.#o.maxConnections) {
        conn.close();
        continue;
      }
      conn.setNoDelay(true);
      // Go counts the SOCKS negotiation bytes too.
      const s = new CountingStream(conn, this.#o.metrics);
      this.#conns.add(s);
      this.#serve(s).catch((e) => this.#o.log.debug(`socks session: ${e}`)).finally(() => {
        this.#conns.delete(s);
        s.close();
      });
    }
  }

  async #serve(conn: CountingStream): Promise<void> {
    const o = this.#o;
    const m = o.metrics;
    m.active++;
    try {
      const reader = new HandshakeReader(conn, 1024);
      const dest = await withDeadline(conn, o.handshakeTimeoutMs, () => this.#negotiate(conn, reader)).catch(
        () => null,
      );
      if (!dest) {
        m.hs_fail++;
        return;
      }
      let remote: Stream;
      try {
        remote = await o.client.open(dest);
      } catch (e) {
        m.hs_fail++;
        o.log.debug(`paniq open ${dest.host}:${dest.port} failed: ${e}`);
        await conn.write(S.encodeReply(S.REP_GENERAL_FAILURE)).catch(() => {});
        return;
      }
      await conn.write(S.encodeReply(S.REP_SUCCEEDED));
      m.hs_ok++;
      await relay(withPrefix(conn, reader.rest()), remote, { idleTimeoutMs: o.idleTimeoutMs });
    } finally {
      m.active--;
    }
  }

  async #negotiate(conn: Stream, r: HandshakeReader) {
    const o = this.#o;
    const greeting = await r.read(S.decodeGreeting, "socks5");
    const needAuth = !!o.username;
    const want = needAuth ? S.METHOD_USERPASS : S.METHOD_NO_AUTH;
    if (!greeting.methods.includes(want)) {
      await conn.write(S.encodeMethodSelection(S.METHOD_NO_ACCEPTABLE));
      return null;
    }
    await conn.write(S.encodeMethodSelection(want));
    if (needAuth) {
      let ok = false;
      try {
        const up = await r.read(S.decodeUserPassRequest, "socks5");
        ok = up.username === o.username && up.password === o.password;
      } catch { /* bad sub-version */ }
      await conn.write(S.encodeUserPassReply(ok));
      if (!ok) {
        o.metrics.auth_fail++;
        return null;
      }
    }
    let req;
    try {
      req = await r.read(S.decodeRequest, "socks5");
    } catch (e) {
      const unsupportedAtyp = e instanceof ProtocolError && /address type/.test(e.message);
      await conn.write(
        S.encodeReply(unsupportedAtyp ? S.REP_ADDRESS_TYPE_NOT_SUPPORTED : S.REP_GENERAL_FAILURE),
      );
      return null;
    }
    if (req.code !== S.CMD_CONNECT) {
      await conn.write(S.encodeReply(S.REP_COMMAND_NOT_SUPPORTED));
      return null;
    }
    return req.address;
  }

  /** Stops accepting and closes every session. */
  close(): void {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const c of this.#conns) c.close();
  }
}
