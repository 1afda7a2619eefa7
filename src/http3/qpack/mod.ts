/**
 * QPACK (RFC 9204): field compression for HTTP/3. The {@linkcode QpackEncoder} and
 * {@linkcode QpackDecoder} are sans-I/O state machines; the HTTP/3 connection carries their
 * encoder-stream and decoder-stream bytes.
 *
 * @example Usage
 * ```ts
 * import { QpackDecoder, QpackEncoder } from "./mod.ts";
 * const enc = new QpackEncoder();
 * const dec = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
 * enc.setPeerSettings({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
 * const section = enc.encodeFieldSection(0, [[":status", "200"], ["server", "switchyard"]]);
 * dec.feedEncoderStream(enc.takeEncoderStreamBytes());
 * console.log(dec.decodeFieldSection(0, section));
 * enc.feedDecoderStream(dec.takeDecoderStreamBytes());
 * ```
 * @module
 */
export { QpackDecoder, type QpackDecoderOptions } from "./decoder.ts";
export { QpackEncoder, type QpackEncoderOptions, type QpackPeerSettings } from "./encoder.ts";
export { DynamicTable, ENTRY_OVERHEAD, entrySize } from "./dynamic_table.ts";
export { huffmanDecode, huffmanEncode, huffmanEncodedLength, HuffmanError } from "./huffman.ts";
export { type Field, STATIC_TABLE, staticFind, staticFindName } from "./static_table.ts";
export type { HuffmanPolicy } from "./wire.ts";
export type { DecoderInstruction, EncoderInstruction } from "./instructions.ts";
