/**
 * The QPACK decoder (RFC 9204 §2.2, §4.5): decodes encoded field sections, applies encoder-stream
 * instructions to its dynamic table, holds blocked sections until the inserts they need arrive,
 * and produces decoder-stream instructions (Section Acknowledgment, Stream Cancellation, Insert
 * Count Increment).
 *
 * Sans-I/O: bytes in, fields and bytes out. Every protocol violation throws an {@linkcode H3Error}
 * (QPACK_DECOMPRESSION_FAILED or QPACK_ENCODER_STREAM_ERROR, both connection errors).
 *
 * @example Usage
 * ```ts
 * import { QpackDecoder } from "./decoder.ts";
 * const dec = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
 * const fields = dec.decodeFieldSection(0, new Uint8Array([0x00, 0x00, 0xd1]));
 * console.log(fields); // [[":method", "GET"]]
 * ```
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { connectionError, H3_ERROR, streamError } from "../errors.ts";
import { DynamicTable, ENTRY_OVERHEAD } from "./dynamic_table.ts";
import {
  type EncoderInstruction,
  EncoderStreamParser,
  writeInsertCountIncrement,
  writeSectionAck,
  writeStreamCancel,
} from "./instructions.ts";
import { type Field, STATIC_TABLE } from "./static_table.ts";
import { INCOMPLETE, QpackReader, QpackWireError } from "./wire.ts";

/** Decoder limits; these are the values this endpoint sends in its SETTINGS. */
export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY. @default 0 */
  maxTableCapacity?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. @default 0 */
  maxBlockedStreams?: number;
  /**
   * SETTINGS_MAX_FIELD_SECTION_SIZE: a decoded section larger than this (names + values + 32 per
   * line) is a stream error H3_EXCESSIVE_LOAD. @default Infinity
   */
  maxFieldSectionSize?: number;
}

interface BlockedSection {
  block: Uint8Array;
  /** Offset of the first field line, after the prefix. */
  linesAt: number;
  requiredInsertCount: number;
  base: number;
}

/** Decodes QPACK field sections for one connection. */
export class QpackDecoder {
  readonly #table = new DynamicTable();
  readonly #maxTableCapacity: number;
  readonly #maxEntries: number;
  readonly #maxBlocked: number;
  readonly #maxSectionSize: number;
  readonly #parser: EncoderStreamParser;
  readonly #blocked = new Map<number, BlockedSection>();
  readonly #out = new ByteWriter(64);
  /** Insert count the encoder is known to have learned about (acks + increments sent). */
  #acknowledged = 0;

  constructor(options: QpackDecoderOptions = {}) {
    this.#maxTableCapacity = options.maxTableCapacity ?? 0;
    this.#maxEntries = Math.floor(this.#maxTableCapacity / 32);
    this.#maxBlocked = options.maxBlockedStreams ?? 0;
    this.#maxSectionSize = options.maxFieldSectionSize ?? Infinity;
    this.#parser = new EncoderStreamParser(this.#maxTableCapacity);
  }

  /** The dynamic table (read-only use: inspection and tests). */
  get table(): DynamicTable {
    return this.#table;
  }

  /** Number of streams whose field section waits for encoder-stream inserts. */
  get blockedStreams(): number {
    return this.#blocked.size;
  }

  /** Whether the section of `streamId` waits for inserts. */
  isBlocked(streamId: number): boolean {
    return this.#blocked.has(streamId);
  }

  /**
   * Applies encoder-stream bytes (any chunking). Returns the IDs of streams whose blocked section
   * can now be decoded with {@linkcode resume}.
   *
   * @throws {H3Error} QPACK_ENCODER_STREAM_ERROR on an invalid instruction.
   */
  feedEncoderStream(chunk: Uint8Array): number[] {
    let instructions: EncoderInstruction[];
    try {
      instructions = this.#parser.push(chunk);
    } catch (e) {
      if (e instanceof QpackWireError) throw connectionError(H3_ERROR.QPACK_ENCODER_STREAM_ERROR, e.message);
      throw e;
    }
    for (const ins of instructions) this.#apply(ins);
    if (this.#blocked.size === 0 || instructions.length === 0) return [];
    const ready: number[] = [];
    for (const [id, b] of this.#blocked) {
      if (b.requiredInsertCount <= this.#table.insertCount) ready.push(id);
    }
    return ready;
  }

  #apply(ins: EncoderInstruction): void {
    const t = this.#table;
    const fail = (detail: string) => connectionError(H3_ERROR.QPACK_ENCODER_STREAM_ERROR, detail);
    switch (ins.kind) {
      case "set-capacity":
        if (ins.capacity > this.#maxTableCapacity) {
          throw fail(`capacity ${ins.capacity} exceeds the maximum ${this.#maxTableCapacity}`);
        }
        t.setCapacity(ins.capacity);
        return;
      case "insert-name-ref": {
        let name: string;
        if (ins.isStatic) {
          if (ins.index >= STATIC_TABLE.length) throw fail(`static index ${ins.index} out of range`);
          name = STATIC_TABLE[ins.index][0];
        } else {
          const abs = t.insertCount - 1 - ins.index;
          if (!t.has(abs)) throw fail(`relative index ${ins.index} names no entry`);
          name = t.name(abs);
        }
        this.#insert(name, ins.value);
        return;
      }
      case "insert-literal":
        this.#insert(ins.name, ins.value);
        return;
      case "duplicate": {
        const abs = t.insertCount - 1 - ins.index;
        if (!t.has(abs)) throw fail(`duplicate of relative index ${ins.index} names no entry`);
        this.#insert(t.name(abs), t.value(abs));
        return;
      }
    }
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#table.capacity) {
      throw connectionError(
        H3_ERROR.QPACK_ENCODER_STREAM_ERROR,
        `entry of ${size} bytes exceeds the table capacity ${this.#table.capacity}`,
      );
    }
    this.#table.insert(name, value);
  }

  /**
   * Decodes the field section of a HEADERS (or PUSH_PROMISE) frame on `streamId`. Returns `null`
   * when the section needs inserts that have not arrived; it is kept and decoded later by
   * {@linkcode resume} once {@linkcode feedEncoderStream} reports the stream.
   *
   * @throws {H3Error} QPACK_DECOMPRESSION_FAILED (connection) on an invalid section or when too
   * many streams would be blocked; H3_EXCESSIVE_LOAD (stream) when the section is over the size limit.
   */
  decodeFieldSection(streamId: number, block: Uint8Array): Field[] | null {
    const r = new QpackReader(block);
    let ric: number;
    let base: number;
    try {
      ric = this.#decodeRequiredInsertCount(r.int(8));
      const sign = r.peek() & 0x80;
      const delta = r.int(7);
      if (sign) {
        if (delta >= ric) throw this.#failed(`negative base (required insert count ${ric}, delta ${delta})`);
        base = ric - delta - 1;
      } else {
        base = ric + delta;
      }
    } catch (e) {
      throw this.#wrap(e);
    }
    if (ric > this.#table.insertCount) {
      if (this.#blocked.has(streamId)) throw this.#failed(`stream ${streamId} already has a blocked section`);
      if (this.#blocked.size >= this.#maxBlocked) {
        throw this.#failed(`more than ${this.#maxBlocked} blocked streams`);
      }
      this.#blocked.set(streamId, { block, linesAt: r.pos, requiredInsertCount: ric, base });
      return null;
    }
    return this.#decodeLines(streamId, r, ric, base);
  }

  /**
   * Decodes a section that was blocked on `streamId` (after {@linkcode feedEncoderStream}
   * reported it). Returns `null` if it is still blocked or unknown.
   */
  resume(streamId: number): Field[] | null {
    const b = this.#blocked.get(streamId);
    if (!b || b.requiredInsertCount > this.#table.insertCount) return null;
    this.#blocked.delete(streamId);
    return this.#decodeLines(streamId, new QpackReader(b.block, b.linesAt), b.requiredInsertCount, b.base);
  }

  /**
   * Records that `streamId` was reset or abandoned before its section was decoded: drops a
   * blocked section and queues a Stream Cancellation (when a dynamic table is in use).
   */
  cancelStream(streamId: number): void {
    this.#blocked.delete(streamId);
    if (this.#maxTableCapacity > 0) writeStreamCancel(this.#out, streamId);
  }

  /**
   * Returns the decoder-stream bytes to send now (queued acknowledgments and cancellations, then
   * an Insert Count Increment for inserts not yet acknowledged) and clears the queue.
   */
  takeDecoderStreamBytes(): Uint8Array {
    const inc = this.#table.insertCount - this.#acknowledged;
    if (inc > 0) {
      writeInsertCountIncrement(this.#out, inc);
      this.#acknowledged = this.#table.insertCount;
    }
    return this.#out.take();
  }

  /** Whether {@linkcode takeDecoderStreamBytes} would return any bytes. */
  get hasDecoderStreamBytes(): boolean {
    return this.#out.length > 0 || this.#table.insertCount > this.#acknowledged;
  }

  #decodeRequiredInsertCount(encoded: number): number {
    if (encoded === 0) return 0;
    const maxEntries = this.#maxEntries;
    const fullRange = 2 * maxEntries;
    if (encoded > fullRange) throw this.#failed(`encoded required insert count ${encoded} out of range`);
    const maxValue = this.#table.insertCount + maxEntries;
    const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
    let ric = maxWrapped + encoded - 1;
    if (ric > maxValue) {
      if (ric <= fullRange) throw this.#failed(`encoded required insert count ${encoded} is invalid`);
      ric -= fullRange;
    }
    if (ric === 0) throw this.#failed("required insert count of 0 encoded as nonzero");
    return ric;
  }

  #decodeLines(streamId: number, r: QpackReader, ric: number, base: number): Field[] {
    const t = this.#table;
    const fields: Field[] = [];
    let maxRef = -1;
    let size = 0;
    // Checks a dynamic reference (inlined by hand below would be faster but less clear).
    const dynamic = (abs: number): number => {
      if (abs < t.dropped || abs >= ric) {
        throw this.#failed(
          abs >= ric || abs < 0
            ? `reference to absolute index ${abs} (required insert count ${ric})`
            : `reference to evicted entry ${abs}`,
        );
      }
      if (abs > maxRef) maxRef = abs;
      return abs;
    };
    try {
      while (!r.done) {
        const b = r.buf[r.pos];
        let name: string;
        let value: string;
        if (b & 0x80) {
          // Indexed field line: 1 T index(6)
          const isStatic = (b & 0x40) !== 0;
          const index = r.int(6);
          if (isStatic) {
            if (index >= STATIC_TABLE.length) throw this.#failed(`static index ${index} out of range`);
            [name, value] = STATIC_TABLE[index];
          } else {
            const abs = dynamic(base - 1 - index);
            name = t.name(abs);
            value = t.value(abs);
          }
        } else if (b & 0x40) {
          // Literal with name reference: 01 N T index(4)
          const isStatic = (b & 0x10) !== 0;
          const index = r.int(4);
          if (isStatic) {
            if (index >= STATIC_TABLE.length) throw this.#failed(`static index ${index} out of range`);
            name = STATIC_TABLE[index][0];
          } else {
            name = t.name(dynamic(base - 1 - index));
          }
          value = r.string(7);
        } else if (b & 0x20) {
          // Literal with literal name: 001 N H len(3)
          name = r.string(3);
          value = r.string(7);
        } else if (b & 0x10) {
          // Indexed field line with post-base index: 0001 index(4)
          const abs = dynamic(base + r.int(4));
          name = t.name(abs);
          value = t.value(abs);
        } else {
          // Literal with post-base name reference: 0000 N index(3)
          name = t.name(dynamic(base + r.int(3)));
          value = r.string(7);
        }
        size += name.length + value.length + ENTRY_OVERHEAD;
        fields.push([name, value]);
      }
    } catch (e) {
      throw this.#wrap(e);
    }
    if (ric > 0) {
      if (maxRef + 1 !== ric) {
        throw this.#failed(`required insert count ${ric} but the largest reference is ${maxRef}`);
      }
      writeSectionAck(this.#out, streamId);
      if (ric > this.#acknowledged) this.#acknowledged = ric;
    }
    if (size > this.#maxSectionSize) {
      throw streamError(
        H3_ERROR.EXCESSIVE_LOAD,
        `field section of ${size} bytes exceeds ${this.#maxSectionSize}`,
      );
    }
    return fields;
  }

  #failed(detail: string) {
    return connectionError(H3_ERROR.QPACK_DECOMPRESSION_FAILED, detail);
  }

  #wrap(e: unknown) {
    if (e === INCOMPLETE) return this.#failed("field section ends inside a representation");
    if (e instanceof QpackWireError) return this.#failed(e.message);
    return e;
  }
}
