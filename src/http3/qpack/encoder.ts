/**
 * The QPACK encoder (RFC 9204 §2.1, §4.5): turns field lists into encoded field sections, decides
 * which fields to insert into the dynamic table, emits encoder-stream instructions, and tracks the
 * decoder's acknowledgments so it never evicts an entry still in use nor blocks more streams than
 * the peer allows.
 *
 * Strategy: exact static matches are indexed; other fields are inserted into the dynamic table
 * (unless marked never-index or too large) and referenced — blocking the stream only while the
 * peer's SETTINGS_QPACK_BLOCKED_STREAMS budget allows. Entries in the oldest quarter of the table
 * ("draining", RFC 9204 §2.1.1.1) are duplicated rather than referenced when possible.
 * The section's Base is the insert count when encoding starts, so entries inserted while encoding
 * are referenced with post-base indexes.
 *
 * Sans-I/O: fields in, section bytes and encoder-stream bytes out; decoder-stream bytes in.
 *
 * @example Usage
 * ```ts
 * import { QpackEncoder } from "./encoder.ts";
 * const enc = new QpackEncoder();
 * enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 16 });
 * const section = enc.encodeFieldSection(0, [[":method", "GET"], ["x-trace", "abc"]]);
 * const instructions = enc.takeEncoderStreamBytes(); // send on the QPACK encoder stream
 * console.log(section.length > 0, instructions.length > 0);
 * ```
 * @module
 */
import { ByteWriter } from "../byte_writer.ts";
import { connectionError, H3_ERROR } from "../errors.ts";
import { DynamicTable, ENTRY_OVERHEAD } from "./dynamic_table.ts";
import {
  DecoderStreamParser,
  writeDuplicate,
  writeInsertLiteral,
  writeInsertNameRef,
  writeSetCapacity,
} from "./instructions.ts";
import { STATIC_BY_NAME, type StaticName } from "./static_table.ts";
import { type HuffmanPolicy, QpackWireError, writeInt, writeString } from "./wire.ts";

/** Names whose values are never inserted and are sent with the never-index (N) bit. */
const DEFAULT_NEVER_INDEX: ReadonlySet<string> = new Set(["authorization", "proxy-authorization"]);

/**
 * Names whose values rarely repeat: inserting each one would churn the table, so a value is only
 * inserted once it has been seen recently (twice within the last {@linkcode RECENT} such fields).
 */
const DEFAULT_INDEX_ON_REPEAT: ReadonlySet<string> = new Set([
  ":path",
  "age",
  "content-length",
  "content-range",
  "date",
  "etag",
  "if-modified-since",
  "if-none-match",
  "if-range",
  "last-modified",
  "link",
  "location",
  "referer",
  "set-cookie",
]);

/** How many recent values of {@linkcode DEFAULT_INDEX_ON_REPEAT} fields are remembered. */
const RECENT = 16;

/** Encoder preferences. */
export interface QpackEncoderOptions {
  /** When to Huffman-code string literals. @default "auto" (when shorter) */
  huffman?: HuffmanPolicy;
  /** Largest dynamic table this encoder will use, whatever the peer allows. @default 4096 */
  maxTableCapacity?: number;
  /** Field names never inserted and sent with the N bit. @default authorization, proxy-authorization */
  neverIndex?: ReadonlySet<string>;
  /**
   * Field names whose values are inserted only when they repeat (`:path`, `date`, `etag`, …);
   * pass an empty set to insert every field at once.
   */
  indexOnRepeat?: ReadonlySet<string>;
}

/** The peer decoder's limits, from its SETTINGS. */
export interface QpackPeerSettings {
  /** Peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY. */
  maxTableCapacity: number;
  /** Peer's SETTINGS_QPACK_BLOCKED_STREAMS. */
  maxBlockedStreams: number;
}

interface NameEntry {
  /** Newest absolute index with this name. */
  abs: number;
  /** value → newest absolute index with this name and value. */
  values: Map<string, number>;
}

/** Everything the encoder knows about one field name, found with a single map lookup. */
interface NameInfo {
  /** Static table entries with this name. */
  readonly static: StaticName | undefined;
  readonly never: boolean;
  readonly repeat: boolean;
  /** Dynamic table entries with this name, when there are any. */
  dyn: NameEntry | undefined;
}

interface Section {
  requiredInsertCount: number;
  refs: number[];
}

/** Encodes QPACK field sections for one connection. */
export class QpackEncoder {
  readonly #table = new DynamicTable();
  readonly #huffman: HuffmanPolicy;
  readonly #ownMax: number;
  readonly #neverIndex: ReadonlySet<string>;
  readonly #indexOnRepeat: ReadonlySet<string>;
  /** Recently seen `name\0value` keys of index-on-repeat fields (a small FIFO). */
  readonly #recent: string[] = [];
  readonly #recentSet = new Set<string>();
  #peerMaxCapacity = 0;
  #peerMaxBlocked = 0;
  #maxEntries = 0;
  readonly #names = new Map<string, NameInfo>();
  /** Reference counts by absolute index, in a ring covering every entry present. */
  #refs = new Int32Array(16);
  readonly #sections = new Map<number, Section[]>();
  #known = 0;
  readonly #out = new ByteWriter(256);
  readonly #lines = new ByteWriter(256);
  readonly #prefix = new ByteWriter(16);
  #sectionStream = 0;
  #sectionRefs: number[] = [];
  #sectionMaxRef = -1;
  #sectionBlocking = false;
  #sectionBudget: boolean | undefined;
  readonly #parser = new DecoderStreamParser();

  constructor(options: QpackEncoderOptions = {}) {
    this.#huffman = options.huffman ?? "auto";
    this.#ownMax = options.maxTableCapacity ?? 4096;
    this.#neverIndex = options.neverIndex ?? DEFAULT_NEVER_INDEX;
    this.#indexOnRepeat = options.indexOnRepeat ?? DEFAULT_INDEX_ON_REPEAT;
  }

  /** Whether a field of an index-on-repeat name is worth inserting: its value was seen recently. */
  #repeated(name: string, value: string): boolean {
    const key = name + "\0" + value;
    if (this.#recentSet.has(key)) return true;
    this.#recent.push(key);
    this.#recentSet.add(key);
    if (this.#recent.length > RECENT) this.#recentSet.delete(this.#recent.shift()!);
    return false;
  }

  /** The dynamic table (read-only use: inspection and tests). */
  get table(): DynamicTable {
    return this.#table;
  }

  /** Insert count the decoder has acknowledged (RFC 9204 §2.1.4 Known Received Count). */
  get knownReceivedCount(): number {
    return this.#known;
  }

  /** Number of outstanding field sections referencing the entry at absolute index `abs`. */
  referenceCount(abs: number): number {
    return this.#table.has(abs) ? this.#refs[abs & (this.#refs.length - 1)] : 0;
  }

  /** Number of streams with an unacknowledged section that may be blocked at the decoder. */
  get blockedStreams(): number {
    let n = 0;
    for (const list of this.#sections.values()) {
      if (list.some((s) => s.requiredInsertCount > this.#known)) n++;
    }
    return n;
  }

  /**
   * Applies the peer's SETTINGS. With a nonzero table capacity this queues Set Dynamic Table
   * Capacity for `min(peer maximum, own maximum)`. Call once, before encoding with the table.
   */
  setPeerSettings(settings: QpackPeerSettings): void {
    this.#peerMaxCapacity = settings.maxTableCapacity;
    this.#maxEntries = Math.floor(settings.maxTableCapacity / 32);
    this.#peerMaxBlocked = settings.maxBlockedStreams;
    const capacity = Math.min(settings.maxTableCapacity, this.#ownMax);
    if (capacity > 0 && capacity !== this.#table.capacity) this.setCapacity(capacity);
  }

  /**
   * Changes the table capacity and queues Set Dynamic Table Capacity. Returns `false` (and changes
   * nothing) if it exceeds the peer's maximum or would evict entries that are not evictable.
   */
  setCapacity(capacity: number): boolean {
    if (capacity > this.#peerMaxCapacity) return false;
    const t = this.#table;
    let size = t.size;
    for (let abs = t.dropped; size > capacity; abs++) {
      if (!this.#evictable(abs)) return false;
      size -= t.sizeOf(abs);
    }
    while (t.size > capacity) this.#evictOldest();
    t.capacity = capacity;
    writeSetCapacity(this.#out, capacity);
    return true;
  }

  /**
   * Inserts a field without referencing it (a speculative insert, RFC 9204 Appendix B.3),
   * reusing a static or dynamic name when one matches. Returns the new entry's absolute index,
   * or -1 if it does not fit.
   */
  insert(name: string, value: string): number {
    if (!this.#canInsert(name.length + value.length + ENTRY_OVERHEAD)) return -1;
    return this.#insert(name, value);
  }

  /**
   * Re-inserts the entry at absolute index `abs` (Duplicate instruction). Returns the new absolute
   * index, or -1 if `abs` is not present or the copy does not fit.
   */
  duplicate(abs: number): number {
    const t = this.#table;
    if (!t.has(abs) || !this.#canInsert(t.sizeOf(abs))) return -1;
    const name = t.name(abs);
    const value = t.value(abs);
    writeDuplicate(this.#out, t.insertCount - 1 - abs);
    return this.#add(name, value);
  }

  /** Returns queued encoder-stream bytes and clears the queue. */
  takeEncoderStreamBytes(): Uint8Array {
    return this.#out.take();
  }

  /** Whether {@linkcode takeEncoderStreamBytes} would return any bytes. */
  get hasEncoderStreamBytes(): boolean {
    return this.#out.length > 0;
  }

  /**
   * Applies decoder-stream bytes (any chunking).
   *
   * @throws {H3Error} QPACK_DECODER_STREAM_ERROR on an invalid instruction.
   */
  feedDecoderStream(chunk: Uint8Array): void {
    const fail = (detail: string) => connectionError(H3_ERROR.QPACK_DECODER_STREAM_ERROR, detail);
    let instructions;
    try {
      instructions = this.#parser.push(chunk);
    } catch (e) {
      if (e instanceof QpackWireError) throw fail(e.message);
      throw e;
    }
    for (const ins of instructions) {
      switch (ins.kind) {
        case "section-ack": {
          const list = this.#sections.get(ins.streamId);
          const section = list?.shift();
          if (!section) {
            throw fail(`Section Acknowledgment for stream ${ins.streamId} with no outstanding section`);
          }
          if (list!.length === 0) this.#sections.delete(ins.streamId);
          this.#release(section);
          if (section.requiredInsertCount > this.#known) this.#known = section.requiredInsertCount;
          break;
        }
        case "stream-cancel": {
          const list = this.#sections.get(ins.streamId);
          if (list) {
            for (const section of list) this.#release(section);
            this.#sections.delete(ins.streamId);
          }
          break;
        }
        case "insert-count-increment":
          if (ins.increment === 0) throw fail("Insert Count Increment of 0");
          if (this.#known + ins.increment > this.#table.insertCount) {
            throw fail(`Insert Count Increment beyond the ${this.#table.insertCount} inserts sent`);
          }
          this.#known += ins.increment;
          break;
      }
    }
  }

  /** Encodes `fields` as the field section of a HEADERS frame on `streamId`. */
  encodeFieldSection(streamId: number, fields: readonly (readonly [string, string])[]): Uint8Array {
    const t = this.#table;
    const lines = this.#lines;
    lines.reset();
    const base = t.insertCount;
    const useTable = t.capacity > 0;
    // Per-section state lives in fields (no closures on this hot path).
    this.#sectionStream = streamId;
    this.#sectionRefs = [];
    this.#sectionMaxRef = -1;
    this.#sectionBlocking = false;
    this.#sectionBudget = undefined;
    const drainIndex = useTable ? this.#drainIndex() : 0;

    for (let i = 0; i < fields.length; i++) {
      const name = fields[i][0];
      const value = fields[i][1];
      const info = this.#info(name);
      const sn = info.static;
      const sIndex = sn?.values.get(value);
      if (sIndex !== undefined) {
        writeInt(lines, 0xc0, 6, sIndex);
        continue;
      }
      const never = info.never;
      let dn = info.dyn;
      if (useTable && !never) {
        const size = name.length + value.length + ENTRY_OVERHEAD;
        const m = dn?.values.get(value);
        let target = -1;
        if (m !== undefined) {
          if (m >= drainIndex && this.#usable(m)) {
            target = m;
          } else if (this.#canBlock() && this.#canInsert(size)) {
            writeDuplicate(this.#out, t.insertCount - 1 - m);
            target = this.#add(name, value);
          } else if (m < this.#known) {
            target = m;
          }
        } else if (
          size <= (t.capacity * 3) >> 2 && (!info.repeat || this.#repeated(name, value)) &&
          this.#canInsert(size)
        ) {
          const inserted = this.#insert(name, value);
          dn = info.dyn;
          if (this.#canBlock()) target = inserted;
        }
        if (target >= 0) {
          this.#ref(target);
          if (target < base) writeInt(lines, 0x80, 6, base - 1 - target);
          else writeInt(lines, 0x10, 4, target - base);
          continue;
        }
      }
      // Literal field line.
      if (sn !== undefined) {
        writeInt(lines, never ? 0x70 : 0x50, 4, sn.index);
      } else if (dn !== undefined && dn.abs >= drainIndex && this.#usable(dn.abs)) {
        const abs = dn.abs;
        this.#ref(abs);
        if (abs < base) writeInt(lines, never ? 0x60 : 0x40, 4, base - 1 - abs);
        else writeInt(lines, never ? 0x08 : 0x00, 3, abs - base);
      } else {
        writeString(lines, never ? 0x30 : 0x20, 3, name, this.#huffman);
      }
      writeString(lines, 0, 7, value, this.#huffman);
    }

    const ric = this.#sectionMaxRef + 1;
    const refs = this.#sectionRefs;
    if (refs.length > 0) {
      const list = this.#sections.get(streamId);
      const section = { requiredInsertCount: ric, refs };
      if (list) list.push(section);
      else this.#sections.set(streamId, [section]);
    }
    // Prefix: Required Insert Count (8-bit prefix), then sign + Delta Base (7-bit prefix).
    const prefix = this.#prefix;
    prefix.reset();
    if (ric === 0) {
      prefix.byte(0);
      prefix.byte(0);
    } else {
      writeInt(prefix, 0, 8, (ric % (2 * this.#maxEntries)) + 1);
      if (base >= ric) writeInt(prefix, 0x00, 7, base - ric);
      else writeInt(prefix, 0x80, 7, ric - base - 1);
    }
    const out = new Uint8Array(prefix.length + lines.length);
    out.set(prefix.buf.subarray(0, prefix.length));
    out.set(lines.buf.subarray(0, lines.length), prefix.length);
    return out;
  }

  /** Whether the section being encoded may block: it already does, or the budget allows it. */
  #canBlock(): boolean {
    if (this.#sectionBlocking) return true;
    this.#sectionBudget ??= this.#streamBlocked(this.#sectionStream) ||
      this.blockedStreams < this.#peerMaxBlocked;
    return this.#sectionBudget;
  }

  /** Whether the section being encoded may reference `abs`. */
  #usable(abs: number): boolean {
    return abs < this.#known || this.#canBlock();
  }

  /** Records a reference from the section being encoded. */
  #ref(abs: number): void {
    this.#sectionRefs.push(abs);
    this.#refs[abs & (this.#refs.length - 1)]++;
    if (abs > this.#sectionMaxRef) this.#sectionMaxRef = abs;
    if (abs >= this.#known) this.#sectionBlocking = true;
  }

  /** Whether `streamId` already has an outstanding section that may block. */
  #streamBlocked(streamId: number): boolean {
    const list = this.#sections.get(streamId);
    return list !== undefined && list.some((s) => s.requiredInsertCount > this.#known);
  }

  /** Smallest absolute index the encoder still references (RFC 9204 §2.1.1.1 draining index). */
  #drainIndex(): number {
    const t = this.#table;
    const reserve = t.capacity >> 2;
    let need = reserve - (t.capacity - t.size);
    let abs = t.dropped;
    while (need > 0 && abs < t.insertCount) need -= t.sizeOf(abs++);
    return abs;
  }

  #evictable(abs: number): boolean {
    return abs < this.#known && this.#refs[abs & (this.#refs.length - 1)] === 0;
  }

  /** Whether an entry of `size` bytes fits after evicting only evictable entries. */
  #canInsert(size: number): boolean {
    const t = this.#table;
    let avail = t.capacity - t.size;
    if (avail >= size) return true;
    if (size > t.capacity) return false;
    for (let abs = t.dropped; abs < t.insertCount && avail < size; abs++) {
      if (!this.#evictable(abs)) return false;
      avail += t.sizeOf(abs);
    }
    return avail >= size;
  }

  /** Emits the best insert instruction for the field and adds it; the caller checked the room. */
  #insert(name: string, value: string): number {
    const sn = STATIC_BY_NAME.get(name);
    if (sn !== undefined) {
      writeInsertNameRef(this.#out, true, sn.index, value, this.#huffman);
    } else {
      const dn = this.#names.get(name)?.dyn;
      if (dn !== undefined) {
        writeInsertNameRef(this.#out, false, this.#table.insertCount - 1 - dn.abs, value, this.#huffman);
      } else {
        writeInsertLiteral(this.#out, name, value, this.#huffman);
      }
    }
    return this.#add(name, value);
  }

  /** Adds an entry to the table and the lookup maps, evicting as needed. */
  #add(name: string, value: string): number {
    const t = this.#table;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    while (t.size + size > t.capacity) this.#evictOldest();
    if (t.length >= this.#refs.length) this.#growRefs();
    const abs = t.insert(name, value);
    const info = this.#info(name);
    const e = info.dyn;
    if (e) {
      e.abs = abs;
      e.values.set(value, abs);
    } else {
      info.dyn = { abs, values: new Map([[value, abs]]) };
    }
    return abs;
  }

  /** Returns the lookup record of `name`, creating it on first use. */
  #info(name: string): NameInfo {
    let info = this.#names.get(name);
    if (info === undefined) {
      if (this.#names.size >= 4096) {
        // Many distinct names: forget those without table entries.
        for (const [n, i] of this.#names) if (i.dyn === undefined) this.#names.delete(n);
      }
      info = {
        static: STATIC_BY_NAME.get(name),
        never: this.#neverIndex.has(name),
        repeat: this.#indexOnRepeat.has(name),
        dyn: undefined,
      };
      this.#names.set(name, info);
    }
    return info;
  }

  #evictOldest(): void {
    const t = this.#table;
    const abs = t.dropped;
    const name = t.name(abs);
    const info = this.#names.get(name);
    const e = info?.dyn;
    if (e) {
      if (e.abs === abs) {
        info!.dyn = undefined;
      } else if (e.values.get(t.value(abs)) === abs) {
        e.values.delete(t.value(abs));
      }
    }
    t.evictOldest();
  }

  #release(section: Section): void {
    const mask = this.#refs.length - 1;
    for (const abs of section.refs) this.#refs[abs & mask]--;
  }

  #growRefs(): void {
    const t = this.#table;
    const old = this.#refs;
    const next = new Int32Array(old.length * 2);
    for (let abs = t.dropped; abs < t.insertCount; abs++) {
      next[abs & (next.length - 1)] = old[abs & (old.length - 1)];
    }
    this.#refs = next;
  }
}
