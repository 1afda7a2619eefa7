/**
 * The `.srs` IP items (ids 5 and 6): a set of address ranges as go4.org/netipx `IPSet` holds it
 * (sorted, merged, IPv4 before IPv6), serialised by sing-box `common/srs/ip_set.go`: version
 * byte 1, a big-endian u64 count, then per range `from` and `to` as length-prefixed bytes.
 *
 * @module
 */
import { formatIp, parseIp, parsePrefix } from "../../common/ip.ts";
import type { ByteReader, ByteWriter } from "./varbin.ts";

/** An inclusive range of one family, as bigints with the family's byte length. */
export interface IpRange {
  from: bigint;
  to: bigint;
  /** 4 or 16. */
  size: 4 | 16;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = v;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/**
 * Builds the merged range list from CIDR prefixes or bare addresses.
 *
 * @throws {SyntaxError} If an entry is neither
 */
export function buildIpSet(cidrs: readonly string[]): IpRange[] {
  const ranges: IpRange[] = cidrs.map((c) => {
    const p = parsePrefix(c);
    const size = p.addr.length as 4 | 16;
    const from = toBig(p.addr);
    const hostBits = BigInt(size * 8 - p.bits);
    return { from, to: from | ((1n << hostBits) - 1n), size };
  });
  return mergeRanges(ranges);
}

/** Sorts (IPv4 first) and merges overlapping or adjacent ranges. */
export function mergeRanges(input: IpRange[]): IpRange[] {
  const sorted = [...input].sort((a, b) =>
    a.size - b.size || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0)
  );
  const out: IpRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.size === r.size && r.from <= last.to + 1n) {
      if (r.to > last.to) last.to = r.to;
    } else out.push({ ...r });
  }
  return out;
}

/** Minimal CIDR prefixes covering the ranges exactly (netipx `IPSet.Prefixes`). */
export function rangesToPrefixes(ranges: readonly IpRange[]): string[] {
  const out: string[] = [];
  for (const r of ranges) {
    const bitsTotal = r.size * 8;
    let from = r.from;
    while (from <= r.to) {
      let host = 0;
      while (host < bitsTotal) {
        const block = 1n << BigInt(host + 1);
        if (from % block !== 0n || from + block - 1n > r.to) break;
        host++;
      }
      out.push(`${formatIp(fromBig(from, r.size))}/${bitsTotal - host}`);
      from += 1n << BigInt(host);
    }
  }
  return out;
}

/** True when `address` lies in one of the ranges (binary search). */
export function ipSetContains(ranges: readonly IpRange[], address: string): boolean {
  let b = parseIp(address);
  if (!b) return false;
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    b = b.slice(12);
  }
  const v = toBig(b);
  const size = b.length;
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid];
    if (r.size < size || (r.size === size && r.to < v)) lo = mid + 1;
    else if (r.size > size || r.from > v) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Writes an IP set item body. */
export function writeIpSet(w: ByteWriter, ranges: readonly IpRange[]): void {
  w.u8(1).u64(BigInt(ranges.length));
  for (const r of ranges) {
    w.uvarint(r.size).bytes(fromBig(r.from, r.size));
    w.uvarint(r.size).bytes(fromBig(r.to, r.size));
  }
}

/**
 * Reads an IP set item body.
 *
 * @throws {RangeError} If the version is not 1 or the data is malformed
 */
export function readIpSet(r: ByteReader): IpRange[] {
  const version = r.u8();
  if (version !== 1) throw new RangeError(`Unsupported rule-set IP set version ${version}`);
  const count = r.u64();
  if (count * 10n > BigInt(r.remaining)) throw new RangeError("Rule-set IP set count exceeds the data");
  const out: IpRange[] = [];
  for (let i = 0n; i < count; i++) {
    const from = r.bytesN(r.uvarint());
    const to = r.bytesN(r.uvarint());
    if ((from.length !== 4 && from.length !== 16) || from.length !== to.length) {
      throw new RangeError("Rule-set IP range has a bad address length");
    }
    out.push({ from: toBig(from), to: toBig(to), size: from.length as 4 | 16 });
  }
  return out;
}
