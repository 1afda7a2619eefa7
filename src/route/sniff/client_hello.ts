/**
 * A TLS ClientHello parser (RFC 8446 §4.1.2), enough for routing and fingerprinting: SNI, ALPN,
 * supported versions, groups, signature algorithms, cipher suites and the extension order.
 *
 * @module
 */

/** Fields of a ClientHello that sniffing uses. */
export interface ClientHelloInfo {
  serverName?: string;
  alpn: string[];
  cipherSuites: number[];
  /** Extension types in wire order. */
  extensions: number[];
  supportedVersions: number[];
  supportedGroups: number[];
  signatureAlgorithms: number[];
}

/**
 * Parses a handshake message (type byte, 3-byte length, body) holding a ClientHello.
 *
 * @throws {RangeError} If the message is truncated or malformed
 */
export function parseClientHello(msg: Uint8Array): ClientHelloInfo {
  if (msg.length < 4 || msg[0] !== 1) throw new RangeError("Not a ClientHello handshake message");
  const len = (msg[1] << 16) | (msg[2] << 8) | msg[3];
  if (msg.length < 4 + len) throw new RangeError("ClientHello is truncated");
  const b = msg.subarray(4, 4 + len);
  let p = 0;
  const need = (n: number) => {
    if (p + n > b.length) throw new RangeError(`ClientHello field at byte ${p} is truncated`);
  };
  const u8 = () => {
    need(1);
    return b[p++];
  };
  const u16 = () => {
    need(2);
    const v = (b[p] << 8) | b[p + 1];
    p += 2;
    return v;
  };
  const legacyVersion = u16();
  if (legacyVersion < 0x0300 || legacyVersion > 0x0304) throw new RangeError("Bad ClientHello version");
  need(32);
  p += 32; // random
  const sid = u8();
  need(sid);
  p += sid;
  const csLen = u16();
  need(csLen);
  const info: ClientHelloInfo = {
    alpn: [],
    cipherSuites: [],
    extensions: [],
    supportedVersions: [],
    supportedGroups: [],
    signatureAlgorithms: [],
  };
  for (let i = 0; i + 1 < csLen; i += 2) info.cipherSuites.push((b[p + i] << 8) | b[p + i + 1]);
  p += csLen;
  const compLen = u8();
  need(compLen);
  p += compLen;
  if (p === b.length) return info; // no extensions
  const extEnd = p + 2 + ((b[p] << 8) | b[p + 1]);
  p += 2;
  if (extEnd > b.length) throw new RangeError("ClientHello extensions are truncated");
  while (p + 4 <= extEnd) {
    const type = u16();
    const elen = u16();
    if (p + elen > extEnd) throw new RangeError(`ClientHello extension ${type} is truncated`);
    const e = b.subarray(p, p + elen);
    info.extensions.push(type);
    switch (type) {
      case 0: // server_name
        if (e.length >= 5 && e[2] === 0) {
          const nlen = (e[3] << 8) | e[4];
          if (5 + nlen <= e.length) info.serverName = new TextDecoder().decode(e.subarray(5, 5 + nlen));
        }
        break;
      case 16: // ALPN
        for (let q = 2; q < e.length;) {
          const l = e[q];
          if (q + 1 + l > e.length) break;
          info.alpn.push(new TextDecoder().decode(e.subarray(q + 1, q + 1 + l)));
          q += 1 + l;
        }
        break;
      case 10: // supported_groups
        for (let q = 2; q + 1 < e.length; q += 2) info.supportedGroups.push((e[q] << 8) | e[q + 1]);
        break;
      case 13: // signature_algorithms
        for (let q = 2; q + 1 < e.length; q += 2) info.signatureAlgorithms.push((e[q] << 8) | e[q + 1]);
        break;
      case 43: // supported_versions
        for (let q = 1; q + 1 < e.length; q += 2) info.supportedVersions.push((e[q] << 8) | e[q + 1]);
        break;
    }
    p += elen;
  }
  return info;
}
