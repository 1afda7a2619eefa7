/**
 * In-memory outbounds for the group tests: each records its dials and hands out streams that
 * remember whether they were closed; `fail` makes dials reject.
 */
import type { OutboundContext } from "../../src/adapter/registry.ts";
import type {
  Network,
  Outbound,
  Packet,
  PacketConn,
  SelectionStore,
  Socksaddr,
  Stream,
} from "../../src/adapter/types.ts";
import { getLogger } from "../../src/common/log.ts";

/** A stream that only records `close()`. */
export class FakeStream implements Stream, PacketConn {
  closed = false;
  read(): Promise<number | null> {
    return Promise.resolve(null);
  }
  write(p: Uint8Array): Promise<number> {
    return Promise.resolve(p.length);
  }
  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
  readPacket(): Promise<Packet | null> {
    return Promise.resolve(null);
  }
  writePacket(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
}

/** An outbound that records dials. */
export class FakeOutbound implements Outbound {
  readonly type = "direct";
  readonly streams: FakeStream[] = [];
  readonly dialed: Socksaddr[] = [];
  fail = false;
  constructor(readonly tag: string, readonly network: readonly Network[] = ["tcp", "udp"]) {}
  dial(destination: Socksaddr): Promise<Stream> {
    this.dialed.push(destination);
    if (this.fail) return Promise.reject(new Error(`${this.tag} is down`));
    const s = new FakeStream();
    this.streams.push(s);
    return Promise.resolve(s);
  }
  listenPacket(destination: Socksaddr): Promise<PacketConn> {
    return this.dial(destination) as Promise<FakeStream>;
  }
}

/** A selection store in memory. */
export class MemorySelections implements SelectionStore {
  readonly map = new Map<string, string>();
  loadSelected(group: string): string | undefined {
    return this.map.get(group);
  }
  storeSelected(group: string, selected: string): void {
    this.map.set(group, selected);
  }
}

/** An outbound context over `outbounds`. */
export function groupContext(
  tag: string,
  outbounds: Map<string, Outbound>,
  extra: Partial<OutboundContext> = {},
): OutboundContext {
  return {
    tag,
    logger: getLogger("test", tag),
    dialer: () => {
      throw new Error("groups do not dial by themselves");
    },
    outbound: (t) => outbounds.get(t),
    ...extra,
  };
}
