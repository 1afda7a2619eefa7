/**
 * The QPACK part of bench/http3.ts: realistic request and response header sets and an
 * encode + decode rate measurement.
 *
 * @module
 */
import { QpackDecoder } from "../src/http3/qpack/decoder.ts";
import { QpackEncoder } from "../src/http3/qpack/encoder.ts";

export const REQUEST: [string, string][] = [
  [":method", "GET"],
  [":scheme", "https"],
  [":authority", "www.example.com"],
  [":path", "/assets/app.js?v=1"],
  ["user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
  ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
  ["accept-language", "en-US,en;q=0.5"],
  ["accept-encoding", "gzip, deflate, br, zstd"],
  ["referer", "https://www.example.com/index.html"],
  ["cookie", "session=0123456789abcdef0123456789abcdef; theme=dark; consent=yes"],
  ["sec-fetch-dest", "script"],
  ["sec-fetch-mode", "no-cors"],
  ["sec-fetch-site", "same-origin"],
  ["priority", "u=2"],
];
export const RESPONSE: [string, string][] = [
  [":status", "200"],
  ["content-type", "application/javascript"],
  ["content-length", "48213"],
  ["cache-control", "public, max-age=31536000"],
  ["etag", '"5f3c-1a2b3c4d5e6f"'],
  ["last-modified", "Sat, 21 Nov 2026 08:00:00 GMT"],
  ["date", "Sat, 21 Nov 2026 21:00:00 GMT"],
  ["server", "switchyard"],
  ["vary", "accept-encoding"],
  ["strict-transport-security", "max-age=31536000; includesubdomains"],
  ["x-content-type-options", "nosniff"],
];

/**
 * Blocks per second for encode + decode of `n` header blocks, with the encoder and decoder
 * connected as on a connection (instructions and acknowledgments delivered after each block).
 * `vary` changes one field per block (the request path, the response content-length), as real
 * traffic does.
 */
export function qpackRate(fields: [string, string][], vary: number, n: number): number {
  const enc = new QpackEncoder();
  const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
  const variants = Array.from({ length: 64 }, (_, i) => {
    const f = fields.map(([k, v]) => [k, v] as [string, string]);
    f[vary][1] = `${f[vary][1]}${i}`;
    return f;
  });
  const once = (i: number) => {
    const f = variants[i % 64];
    const section = enc.encodeFieldSection(i * 4, f);
    if (enc.hasEncoderStreamBytes) dec.feedEncoderStream(enc.takeEncoderStreamBytes());
    const out = dec.decodeFieldSection(i * 4, section);
    if (!out || out.length !== f.length) throw new Error("QPACK round trip failed");
    if (dec.hasDecoderStreamBytes) enc.feedDecoderStream(dec.takeDecoderStreamBytes());
  };
  for (let i = 0; i < 20000; i++) once(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) once(i);
  return n / ((performance.now() - t0) / 1000);
}
