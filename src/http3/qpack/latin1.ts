/**
 * Byte strings: HTTP field names and values are octets, kept in JavaScript strings with one char
 * per byte (code points 0..255), which is also what the Fetch `Headers` class accepts.
 *
 * @module
 */

/** Returns the byte string for `bytes[start..end)`. */
export function latin1Decode(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return "";
  if (len <= 24) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return s;
}

/** Writes the byte string `s` into `buf` at `offset`; returns the offset after it. */
export function latin1EncodeInto(s: string, buf: Uint8Array, offset: number): number {
  for (let i = 0; i < s.length; i++) buf[offset + i] = s.charCodeAt(i);
  return offset + s.length;
}

/** Whether every char of `s` is a single byte (code point below 256). */
export function isByteString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Converts a UTF-8 text to a byte string (each UTF-8 byte becomes one char). */
export function utf8ToByteString(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return latin1Decode(bytes, 0, bytes.length);
}
