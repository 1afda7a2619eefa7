/**
 * Byte reader and writer for the `.srs` payload: Go's `binary.Uvarint`, big-endian integers,
 * and sing's `varbin` slices (a uvarint count, then the items).
 *
 * @module
 */

/** Reads from a byte array; every read checks bounds. */
export class ByteReader {
  #pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.#pos;
  }
  get remaining(): number {
    return this.bytes.length - this.#pos;
  }

  #need(n: number): void {
    if (this.#pos + n > this.bytes.length) {
      throw new RangeError(`Rule-set data truncated at byte ${this.#pos} (need ${n} more)`);
    }
  }

  u8(): number {
    this.#need(1);
    return this.bytes[this.#pos++];
  }
  u16(): number {
    this.#need(2);
    const v = (this.bytes[this.#pos] << 8) | this.bytes[this.#pos + 1];
    this.#pos += 2;
    return v;
  }
  /** A big-endian u64 as a bigint. */
  u64(): bigint {
    this.#need(8);
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.bytes[this.#pos + i]);
    this.#pos += 8;
    return v;
  }
  /** Go `binary.ReadUvarint`, limited to 2^53. */
  uvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new RangeError("Rule-set uvarint too large");
        return result;
      }
      mul *= 128;
    }
    throw new RangeError("Rule-set uvarint overflows 64 bits");
  }
  bytesN(n: number): Uint8Array {
    this.#need(n);
    const out = this.bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  /** A count that must fit what is left (each item at least `minItemBytes`). */
  count(minItemBytes = 1): number {
    const n = this.uvarint();
    if (n * minItemBytes > this.remaining) {
      throw new RangeError(`Rule-set list of ${n} items exceeds the data`);
    }
    return n;
  }
  string(): string {
    return new TextDecoder().decode(this.bytesN(this.uvarint()));
  }
  stringList(): string[] {
    const n = this.count();
    return Array.from({ length: n }, () => this.string());
  }
  u16List(): number[] {
    const n = this.count(2);
    return Array.from({ length: n }, () => this.u16());
  }
  u8List(): number[] {
    const n = this.count();
    return Array.from(this.bytesN(n));
  }
  u64List(): bigint[] {
    const n = this.count(8);
    return Array.from({ length: n }, () => this.u64());
  }
  bool(): boolean {
    return this.u8() !== 0;
  }
}

/** Appends bytes to a growable buffer. */
export class ByteWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #grow(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(v: number): this {
    this.#grow(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }
  u64(v: bigint): this {
    for (let i = 7; i >= 0; i--) this.u8(Number((v >> BigInt(i * 8)) & 0xffn));
    return this;
  }
  uvarint(v: number): this {
    let x = v;
    while (x >= 0x80) {
      this.u8((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    return this.u8(x);
  }
  bytes(b: Uint8Array): this {
    this.#grow(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }
  string(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.uvarint(b.length).bytes(b);
  }
  stringList(list: readonly string[]): this {
    this.uvarint(list.length);
    for (const s of list) this.string(s);
    return this;
  }
  u16List(list: readonly number[]): this {
    this.uvarint(list.length);
    for (const v of list) this.u16(v);
    return this;
  }
  u8List(list: readonly number[]): this {
    this.uvarint(list.length);
    for (const v of list) this.u8(v);
    return this;
  }
  u64List(list: readonly bigint[]): this {
    this.uvarint(list.length);
    for (const v of list) this.u64(v);
    return this;
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
