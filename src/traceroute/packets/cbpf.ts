/**
 * Classic BPF programs for the Linux packet socket (sans-I/O: instruction lists only).
 *
 * The capture socket is `AF_PACKET/SOCK_DGRAM`, so the filter sees the packet from the **network
 * header** on every link type (Ethernet, loopback, tun, WireGuard) and reads the EtherType from
 * the `SKF_AD_PROTOCOL` ancillary field. The reference's filters assume Ethernet framing
 * (EtherType at offset 12), which is the non-Ethernet capture bug this avoids.
 *
 * @module
 */

/** One `struct sock_filter`. */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const OP = {
  LD_W_ABS: 0x20,
  LD_H_ABS: 0x28,
  LD_B_ABS: 0x30,
  LDX_B_MSH: 0xb1,
  LD_H_IND: 0x48,
  LD_B_IND: 0x50,
  JEQ_K: 0x15,
  JSET_K: 0x45,
  AND_K: 0x54,
  RET_K: 0x06,
} as const;

/** `SKF_AD_OFF + SKF_AD_PROTOCOL`: loads the EtherType (host order) of the packet. */
const AD_PROTOCOL = 0xfffff000;
const ACCEPT = 0x40000;

type Label = string;
type Item = { insn: BpfInsn; t?: Label; f?: Label } | { label: Label };

/** A tiny assembler with symbolic jump targets. */
class Asm {
  items: Item[] = [];
  op(code: number, k = 0): this {
    this.items.push({ insn: { code, jt: 0, jf: 0, k: k >>> 0 } });
    return this;
  }
  jeq(k: number, t: Label, f: Label): this {
    this.items.push({ insn: { code: OP.JEQ_K, jt: 0, jf: 0, k: k >>> 0 }, t, f });
    return this;
  }
  jset(k: number, t: Label, f: Label): this {
    this.items.push({ insn: { code: OP.JSET_K, jt: 0, jf: 0, k: k >>> 0 }, t, f });
    return this;
  }
  label(l: Label): this {
    this.items.push({ label: l });
    return this;
  }
  build(): BpfInsn[] {
    const pos = new Map<Label, number>();
    let n = 0;
    for (const it of this.items) {
      if ("label" in it) pos.set(it.label, n);
      else n++;
    }
    const out: BpfInsn[] = [];
    for (const it of this.items) {
      if ("label" in it) continue;
      const i = out.length;
      const rel = (l: Label | undefined) => {
        if (l === undefined || l === "next") return 0;
        const p = pos.get(l);
        if (p === undefined || p <= i || p - i - 1 > 255) throw new RangeError(`Cannot jump to "${l}"`);
        return p - i - 1;
      };
      out.push({ ...it.insn, jt: rel(it.t), jf: rel(it.f) });
    }
    return out;
  }
}

function ipv4Word(addr: Uint8Array): number {
  return ((addr[0] << 24) | (addr[1] << 16) | (addr[2] << 8) | addr[3]) >>> 0;
}

/** A program that drops everything (attached first to close the capture race). */
export function dropAllFilter(): BpfInsn[] {
  return [{ code: OP.RET_K, jt: 0, jf: 0, k: 0 }];
}

/** Accepts ICMPv4 over IPv4 and ICMPv6 over IPv6 (`icmp or icmp6`). */
export function icmpFilter(): BpfInsn[] {
  return new Asm()
    .op(OP.LD_W_ABS, AD_PROTOCOL)
    .jeq(0x0800, "v4", "next")
    .jeq(0x86dd, "v6", "drop")
    .label("v4").op(OP.LD_B_ABS, 9).jeq(1, "ok", "drop")
    .label("v6").op(OP.LD_B_ABS, 6).jeq(58, "ok", "drop")
    .label("ok").op(OP.RET_K, ACCEPT)
    .label("drop").op(OP.RET_K, 0)
    .build();
}

/**
 * Accepts, over IPv4: all ICMP when `withIcmp`, plus unfragmented TCP from `src`:`sport` (and, when
 * `dst` is given, to `dst`:`dport`). `synAckOnly` keeps only segments with SYN and ACK set.
 */
export function tcpFilter(opts: {
  src: Uint8Array;
  sport: number;
  dst?: Uint8Array;
  dport?: number;
  withIcmp: boolean;
  synAckOnly?: boolean;
}): BpfInsn[] {
  if (opts.src.length !== 4 || (opts.dst && opts.dst.length !== 4)) {
    throw new TypeError("TCP capture filters support IPv4 only");
  }
  const a = new Asm()
    .op(OP.LD_W_ABS, AD_PROTOCOL)
    .jeq(0x0800, "next", "drop")
    .op(OP.LD_B_ABS, 9);
  if (opts.withIcmp) a.jeq(1, "ok", "next");
  a.jeq(6, "next", "drop")
    .op(OP.LD_W_ABS, 12).jeq(ipv4Word(opts.src), "next", "drop");
  if (opts.dst) a.op(OP.LD_W_ABS, 16).jeq(ipv4Word(opts.dst), "next", "drop");
  a.op(OP.LD_H_ABS, 6).jset(0x3fff, "drop", "next")
    .op(OP.LDX_B_MSH, 0)
    .op(OP.LD_H_IND, 0).jeq(opts.sport, "next", "drop");
  if (opts.dport !== undefined) a.op(OP.LD_H_IND, 2).jeq(opts.dport, "next", "drop");
  if (opts.synAckOnly) a.op(OP.LD_B_IND, 13).op(OP.AND_K, 0x12).jeq(0x12, "next", "drop");
  return a.label("ok").op(OP.RET_K, ACCEPT).label("drop").op(OP.RET_K, 0).build();
}

/** Serialises instructions as an array of native-endian (little-endian) `struct sock_filter`. */
export function encodeFilter(prog: BpfInsn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((p, i) => {
    v.setUint16(i * 8, p.code, true);
    out[i * 8 + 2] = p.jt;
    out[i * 8 + 3] = p.jf;
    v.setUint32(i * 8 + 4, p.k, true);
  });
  return out;
}

/**
 * Runs a program over `pkt` (network header first) with EtherType `proto`: a reference
 * interpreter for the subset above, used by tests. Returns the accepted length (0 = drop).
 */
export function runFilter(prog: BpfInsn[], pkt: Uint8Array, proto: number): number {
  let A = 0, X = 0, pc = 0;
  const ld = (off: number, size: number): number | null => {
    if (off === AD_PROTOCOL) return proto;
    if (off < 0 || off + size > pkt.length) return null;
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + pkt[off + i];
    return v;
  };
  while (pc < prog.length) {
    const { code, jt, jf, k } = prog[pc++];
    let v: number | null;
    switch (code) {
      case OP.LD_W_ABS:
        v = ld(k, 4);
        if (v === null) return 0;
        A = v;
        break;
      case OP.LD_H_ABS:
        v = ld(k, 2);
        if (v === null) return 0;
        A = v;
        break;
      case OP.LD_B_ABS:
        v = ld(k, 1);
        if (v === null) return 0;
        A = v;
        break;
      case OP.LDX_B_MSH:
        v = ld(k, 1);
        if (v === null) return 0;
        X = (v & 0xf) * 4;
        break;
      case OP.LD_H_IND:
        v = ld(X + k, 2);
        if (v === null) return 0;
        A = v;
        break;
      case OP.LD_B_IND:
        v = ld(X + k, 1);
        if (v === null) return 0;
        A = v;
        break;
      case OP.AND_K:
        A = (A & k) >>> 0;
        break;
      case OP.JEQ_K:
        pc += A === k ? jt : jf;
        break;
      case OP.JSET_K:
        pc += (A & k) !== 0 ? jt : jf;
        break;
      case OP.RET_K:
        return k;
      default:
        throw new RangeError(`Unsupported BPF opcode 0x${code.toString(16)}`);
    }
  }
  return 0;
}
