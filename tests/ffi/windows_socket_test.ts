/** Winsock layouts and the syn_socket run logic, tested off Windows with a fake probe. */
import { assertEquals, assertRejects, assertThrows } from "../traceroute/_assert.ts";
import {
  ICMP_ERROR_INFO_SIZE,
  parseIcmpErrorInfo,
  parseWinSockaddr,
  winSockaddr,
  WS,
  wsaPollFd,
} from "../../ffi/windows_socket.ts";
import { runSynSocket, type SynSocketProbe } from "../../src/traceroute/drivers/syn_socket.ts";
import { OSError } from "../../src/traceroute/errors.ts";

Deno.test("Winsock SOCKADDR_IN/IN6 and WSAPOLLFD layouts", () => {
  const a = winSockaddr(new Uint8Array([10, 0, 0, 1]), 443);
  assertEquals([...a.subarray(0, 8)], [2, 0, 1, 187, 10, 0, 0, 1]);
  assertEquals(a.length, 16);
  const b = winSockaddr(new Uint8Array(16).fill(1), 80);
  assertEquals([b[0], b[1], b.length, b[8]], [23, 0, 28, 1]);
  assertEquals(parseWinSockaddr(a), { addr: new Uint8Array([10, 0, 0, 1]), port: 443 });
  const p = wsaPollFd(0x1234n, WS.POLLWRNORM);
  assertEquals([p.length, p[0], p[1], p[8]], [16, 0x34, 0x12, 0x10]);
});

Deno.test("parseIcmpErrorInfo() reads SOCKADDR_INET, protocol, type and code", () => {
  const b = new Uint8Array(ICMP_ERROR_INFO_SIZE);
  b.set(winSockaddr(new Uint8Array([192, 0, 2, 1]), 0));
  new DataView(b.buffer).setInt32(28, 1, true);
  b[32] = 11;
  b[33] = 0;
  assertEquals(parseIcmpErrorInfo(b), {
    src: new Uint8Array([192, 0, 2, 1]),
    protocol: 1,
    type: 11,
    code: 0,
  });
  assertThrows(() => parseIcmpErrorInfo(new Uint8Array(10)), RangeError);
});

const spec = {
  target: "127.0.0.1",
  port: 443,
  minTtl: 1,
  maxTtl: 6,
  timeoutMs: 10,
  delayMs: 1,
  earlyFinish: false,
  log: () => {},
};

Deno.test("runSynSocket(): hops with ttl 0, timeouts empty, success is the destination", async () => {
  const script: Record<number, Awaited<ReturnType<SynSocketProbe>>> = {
    1: { kind: "hop", ip: new Uint8Array([10, 0, 0, 1]), type: 11, code: 0 },
    2: { kind: "timeout" },
    3: { kind: "dest" },
  };
  const out = await runSynSocket(spec, (_t, _p, ttl) => Promise.resolve(script[ttl]));
  assertEquals(out.run.hops.map((h) => [h.ttl, h.ip_address, h.rtt > 0 || h.ip_address === ""]), [
    [0, "10.0.0.1", true],
    [0, "", true],
    [0, "127.0.0.1", true],
  ]);
  assertEquals(out.destRtt! >= 0, true);
});

Deno.test("runSynSocket(): connection refused fails the whole run (CONNREFUSED)", async () => {
  const e = await assertRejects(
    () => runSynSocket(spec, () => Promise.resolve({ kind: "error", wsaError: WS.WSAECONNREFUSED })),
    OSError,
  );
  assertEquals((e as OSError).errno, 111);
});
