/**
 * The sing-mux server (SagerNet/sing-mux `server.go`, `server_conn.go`): after a proxy inbound
 * accepted a connection to {@linkcode MUX_DESTINATION}, read the session request (refusing
 * unpadded clients when `padding` is required), run the smux, yamux or h2mux session, and hand each
 * stream to the router: TCP streams answer status 0 once the outbound is up (or status 1 with
 * the error), UDP streams carry length-prefixed packets, with addresses when the client asked.
 *
 * @module
 */
import type { Metadata, Socksaddr, Stream } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { CodecStream } from "../../common/codec_stream.ts";
import { errorMessage, ProtocolError } from "../../common/errors.ts";
import { HandshakeReader, withDeadline } from "../../common/handshake_reader.ts";
import { withPrefix, writeAll } from "../../common/prefixed_stream.ts";
import { StreamPacketConn } from "../../common/stream_packet_conn.ts";
import type { ConnectionRouter } from "../../adapter/types.ts";
import { packetAddrFraming } from "./client.ts";
import {
  decodeMuxRequest,
  decodeStreamRequest,
  encodeStreamResponse,
  MUX_DESTINATION,
  type MuxProtocol,
  PaddingDecoder,
  PaddingEncoder,
  PROTOCOL,
  STATUS_ERROR,
} from "./protocol.ts";
import { newSession } from "./session.ts";
import { encodeU16Prefixed, readU16Prefixed } from "../../common/length_prefix.ts";

/** Inbound `multiplex{}` options. */
export interface MuxServerOptions {
  /** Reject clients without padding. */
  padding?: boolean;
}

/** Whether `destination` is the mux service address. */
export function isMuxDestination(d: Socksaddr): boolean {
  return d.host === MUX_DESTINATION.host && d.port === MUX_DESTINATION.port;
}

const EMPTY = new Uint8Array(0);

/** Length-prefixed packets to one destination (no address), as sing-mux `serverPacketConn`. */
function plainFraming(destination: Socksaddr) {
  return {
    encode: (data: Uint8Array) => encodeU16Prefixed(EMPTY, data),
    decode(q: ByteQueue) {
      const p = readU16Prefixed(q.peek(), 0);
      if (!p) return null;
      const data = p.data.slice();
      q.consume(p.end);
      return { data, addr: destination };
    },
  };
}

/**
 * Serves one multiplexed connection until it closes. `base` is the metadata of the carrying
 * connection (inbound, source, user).
 *
 * @throws {ProtocolError} If the session request is malformed, names an unknown protocol, or
 *   lacks padding the server requires.
 */
export async function serveMux(
  conn: Stream,
  reader: HandshakeReader,
  o: MuxServerOptions,
  router: ConnectionRouter,
  base: Omit<Metadata, "network" | "destination">,
  onError: (e: string) => void = () => {},
): Promise<void> {
  const req = await reader.read(decodeMuxRequest, "sing-mux");
  if (!req.padding && o.padding) throw new ProtocolError("sing-mux", 2, "non-padded connection rejected");
  const protocol = (Object.keys(PROTOCOL) as MuxProtocol[]).find((k) => PROTOCOL[k] === req.protocol);
  if (!protocol) throw new ProtocolError("sing-mux", 1, `unsupported protocol ${req.protocol}`);
  let inner = withPrefix(conn, reader.rest());
  if (req.padding) inner = new CodecStream(inner, new PaddingEncoder(), new PaddingDecoder());
  const session = await newSession(protocol, inner, false);
  for (;;) {
    const s = await session.accept();
    if (!s) break;
    serveStream(s, router, base).catch((e) => {
      onError(errorMessage(e));
      s.close();
    });
  }
}

async function serveStream(
  s: Stream,
  router: ConnectionRouter,
  base: Omit<Metadata, "network" | "destination">,
) {
  const reader = new HandshakeReader(s, 1024);
  const r = await withDeadline(s, 15_000, () => reader.read(decodeStreamRequest, "sing-mux"));
  const rest = reader.rest();
  if (r.network === "tcp") {
    await router.routeConnection(
      withPrefix(s, rest),
      { ...base, network: "tcp", destination: r.destination },
      {
        onSuccess: () => writeAll(s, encodeStreamResponse(0)),
        onFailure: async (e) => {
          await writeAll(s, encodeStreamResponse(STATUS_ERROR, e.message)).catch(() => {});
          s.close();
        },
      },
    );
    return;
  }
  const framing = r.packetAddr ? packetAddrFraming(false) : plainFraming(r.destination);
  const pc = new StreamPacketConn(withPrefix(s, rest), framing, encodeStreamResponse(0));
  await router.routePacketConnection(pc, { ...base, network: "udp", destination: r.destination });
}
