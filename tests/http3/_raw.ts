// A hand-rolled HTTP/3 peer for tests: raw Deno QUIC streams carrying bytes the test chooses.
import { encodeFrame, encodeSettingsFrame, FRAME } from "../../src/http3/frames.ts";
import { QpackEncoder } from "../../src/http3/qpack/encoder.ts";
import { concat } from "../../src/http3/session.ts";
import { varintBytes } from "../../src/http3/varint.ts";
import { testCerts } from "./_certs.ts";

/** SETTINGS with QPACK table capacity 0 and no blocked streams (static-table QPACK only). */
export const SETTINGS = encodeSettingsFrame([[1, 0], [7, 0]]);

/** A unidirectional stream's bytes: type varint, then `rest`. */
export const uni = (type: number, ...rest: Uint8Array[]): Uint8Array => concat([varintBytes(type), ...rest]);

/** A GET request's HEADERS frame for `path` (static QPACK, no Huffman). */
export function requestHeaders(path = "/", extra: [string, string][] = []): Uint8Array {
  const enc = new QpackEncoder({ huffman: "never" });
  const section = enc.encodeFieldSection(0, [
    [":method", "GET"],
    [":scheme", "https"],
    [":authority", "localhost"],
    [":path", path],
    ...extra,
  ]);
  return encodeFrame(FRAME.HEADERS, section);
}

/** Opens a unidirectional stream, writes `bytes`, and finishes it if `fin`. */
export async function send(
  conn: Deno.QuicConn,
  bytes: Uint8Array,
  fin = false,
): Promise<WritableStreamDefaultWriter<Uint8Array>> {
  const w = (await conn.createUnidirectionalStream()).getWriter();
  await w.write(bytes);
  if (fin) await w.close();
  return w;
}

/** Opens a request stream and writes `bytes` (then FIN if `fin`). */
export async function request(
  conn: Deno.QuicConn,
  bytes: Uint8Array,
  fin = true,
): Promise<Deno.QuicBidirectionalStream> {
  const s = await conn.createBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(bytes);
  if (fin) await w.close();
  else w.releaseLock();
  return s;
}

/** Connects a raw QUIC client with ALPN h3 to a local server using the test certificates. */
export async function connectRaw(port: number): Promise<Deno.QuicConn> {
  const certs = await testCerts();
  return await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    serverName: "localhost",
    caCerts: [certs.caPem],
    alpnProtocols: ["h3"],
  });
}
