/**
 * A fresh self-signed ECDSA P-256 server certificate per start, as the Go proxy makes one
 * (paniq.md §3.7): serial 1, valid from now−1h to now+365d, KeyUsage digitalSignature |
 * keyEncipherment, EKU serverAuth, empty subject, no SAN. Built with WebCrypto and a small
 * DER writer, so no X.509 library is needed.
 *
 * @module
 */

/** PEM certificate chain and PKCS#8 key for `QuicEndpoint.listen`, plus the DER certificate. */
export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  der: Uint8Array;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const head = [tag, ...derLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);

function derInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = bytes.subarray(i);
  if (body[0] & 0x80) body = new Uint8Array([0, ...body]);
  return tlv(0x02, body);
}

function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      stack.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, new Uint8Array(out));
}

function utcTime(d: Date): Uint8Array {
  const p = (n: number) => String(n).padStart(2, "0");
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, new TextEncoder().encode(s));
}

function pem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Converts WebCrypto's raw `r‖s` ECDSA signature into DER `SEQUENCE { r, s }`. */
function rawToDerSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
}

/**
 * Generates the certificate. `now` is injectable for tests.
 *
 * @example Usage
 * ```ts ignore
 * const { certPem, keyPem } = await generateServerCertificate();
 * ```
 */
export async function generateServerCertificate(now = Date.now()): Promise<ServerCertificate> {
  const alg = { name: "ECDSA", namedCurve: "P-256" } as const;
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const sigAlg = seq(oid("1.2.840.10045.4.3.2"));
  const emptyName = seq();
  const boolTrue = tlv(0x01, new Uint8Array([0xff]));
  const ext = (id: string, critical: boolean, value: Uint8Array) =>
    critical ? seq(oid(id), boolTrue, tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));
  const extensions = seq(
    // KeyUsage: digitalSignature (bit 0) | keyEncipherment (bit 2)
    ext("2.5.29.15", true, tlv(0x03, new Uint8Array([0x05, 0xa0]))),
    // ExtendedKeyUsage: serverAuth
    ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
    // BasicConstraints: CA:FALSE
    ext("2.5.29.19", true, seq()),
  );
  const tbs = seq(
    tlv(0xa0, derInteger(new Uint8Array([2]))),
    derInteger(new Uint8Array([1])),
    sigAlg,
    emptyName,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 365 * 86400_000))),
    emptyName,
    spki,
    tlv(0xa3, extensions),
  );
  const rawSig = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbs as Uint8Array<ArrayBuffer>,
    ),
  );
  const bitString = tlv(0x03, new Uint8Array([0, ...rawToDerSignature(rawSig)]));
  const der = seq(tbs, sigAlg, bitString);
  return { certPem: pem("CERTIFICATE", der), keyPem: pem("PRIVATE KEY", pkcs8), der };
}
