/**
 * Datagrams framed as `header ‖ length(2, BE) ‖ data` inside streams (VLESS UDP, sing-mux
 * packet streams, UDP-over-TCP), sans-I/O.
 *
 * @module
 */

/**
 * Builds `header ‖ length(2, BE) ‖ data`.
 *
 * @throws {RangeError} If `data` is longer than 65535 bytes.
 */
export function encodeU16Prefixed(header: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length > 0xffff) throw new RangeError(`Datagram of ${data.length} bytes is too large`);
  const out = new Uint8Array(header.length + 2 + data.length);
  out.set(header);
  out[header.length] = data.length >> 8;
  out[header.length + 1] = data.length & 0xff;
  out.set(data, header.length + 2);
  return out;
}

/**
 * Reads `length(2, BE) ‖ data` at `offset` of `buf`: the data (a view) and the offset after it,
 * or `null` while incomplete.
 */
export function readU16Prefixed(buf: Uint8Array, offset: number): { data: Uint8Array; end: number } | null {
  if (buf.length < offset + 2) return null;
  const end = offset + 2 + ((buf[offset] << 8) | buf[offset + 1]);
  if (buf.length < end) return null;
  return { data: buf.subarray(offset + 2, end), end };
}
