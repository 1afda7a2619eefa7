/**
 * Process lookup: the pure `/proc` parsers on fixture text, the reader on a fake `/proc` tree, and
 * the reader on the real system (this test process's own sockets).
 */
import { assert, assertEquals } from "../_util/assert.ts";
import {
  findSocket,
  parsePasswd,
  parseProcAddress,
  parseProcNet,
  parseSocketLink,
} from "../../src/route/process/proc_net.ts";
import { ProcSearcher } from "../../src/route/process/searcher.ts";

const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const TCP = (uid: number) =>
  HEADER +
  "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 65 1 0000000056d31b2a 100 0 0 10 0\n" +
  "   1: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:0000015B 00000000     0        0 0 3 00000000762b0e77\n" +
  `   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  ${uid}        0 4242 1 0000000000000000 20 4 30 10 -1\n` +
  "   3: garbage line\n";
const TCP6 =
  "  sl  local_address                         remote_address                        st tx_queue\n" +
  "   0: 0000000000000000FFFF00000100007F:9C41 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5151 1 0000000000000000 20 4 30 10 -1\n" +
  "   1: B80D0120000000000000000005000000:01BB 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 6161 1 0000000000000000 20 4 30 10 -1\n";
const UDP = HEADER +
  "  7: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   105        0 777 2 0000000000000000 0\n";

Deno.test("parseProcAddress decodes host-order hex words and big-endian ports", () => {
  assertEquals(parseProcAddress("0100007F:0050", true), { host: "127.0.0.1", port: 80 });
  assertEquals(parseProcAddress("7F000001:0050", false), { host: "127.0.0.1", port: 80 });
  assertEquals(parseProcAddress("00000000000000000000000001000000:0035", true), { host: "::1", port: 53 });
  assertEquals(parseProcAddress("B80D0120000000000000000005000000:01BB", true), {
    host: "2001:db8::5",
    port: 443,
  });
  assertEquals(
    parseProcAddress("0000000000000000FFFF00000100007F:9C41", true),
    { host: "127.0.0.1", port: 40001 },
    "IPv4-mapped addresses are unmapped",
  );
  for (const bad of ["0100007F", "0100007F:50", "0100007:0050", "XX00007F:0050", ""]) {
    assertEquals(parseProcAddress(bad, true), null, bad);
  }
});

Deno.test("parseProcNet reads rows and skips headers and malformed lines", () => {
  const rows = parseProcNet(TCP(1000), true);
  assertEquals(rows.length, 3);
  assertEquals(rows[2], {
    local: { host: "127.0.0.1", port: 40000 },
    remote: { host: "127.0.0.1", port: 8080 },
    state: 1,
    uid: 1000,
    inode: 4242,
  });
  assertEquals(rows[0]!.state, 0x0a);
  assertEquals(parseProcNet(TCP6, true).map((r) => [r.local.host, r.inode]), [["127.0.0.1", 5151], [
    "2001:db8::5",
    6161,
  ]]);
});

Deno.test("findSocket matches the source exactly, skips inode 0 and falls back to a wildcard bind", () => {
  const tcp = parseProcNet(TCP(1000), true);
  assertEquals(
    findSocket(tcp, { host: "127.0.0.1", port: 40000 })?.inode,
    4242,
    "TIME_WAIT row (inode 0) skipped",
  );
  assertEquals(findSocket(tcp, { host: "::ffff:127.0.0.1", port: 40000 })?.inode, 4242);
  assertEquals(findSocket(tcp, { host: "127.0.0.2", port: 40000 }), undefined);
  assertEquals(findSocket(tcp, { host: "127.0.0.1", port: 2024 })?.inode, 65, "0.0.0.0:2024 listener");
  const udp = parseProcNet(UDP, true);
  assertEquals(findSocket(udp, { host: "192.0.2.7", port: 5353 })?.uid, 105);
  assertEquals(findSocket(udp, { host: "not-an-ip", port: 5353 }), undefined);
});

Deno.test("parseSocketLink and parsePasswd", () => {
  assertEquals(parseSocketLink("socket:[4242]"), 4242);
  assertEquals(parseSocketLink("pipe:[4242]"), undefined);
  assertEquals(parseSocketLink("/dev/null"), undefined);
  const users = parsePasswd(
    "# comment\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n" +
      "dup:x:1000:1000::/:/bin/sh\nbroken\n:x:5:5::/:\n",
  );
  assertEquals([...users], [[0, "root"], [1000, "alice"]]);
});

Deno.test("ProcSearcher finds pid, executable and user in a /proc tree", async () => {
  const root = await Deno.makeTempDir();
  try {
    const uid = Deno.uid() ?? 0;
    await Deno.mkdir(`${root}/net`);
    await Deno.writeTextFile(`${root}/net/tcp`, TCP(uid));
    await Deno.writeTextFile(`${root}/net/tcp6`, TCP6);
    await Deno.writeTextFile(`${root}/net/udp`, HEADER);
    await Deno.mkdir(`${root}/100/fd`, { recursive: true });
    await Deno.mkdir(`${root}/200/fd`, { recursive: true });
    await Deno.mkdir(`${root}/self`);
    await Deno.symlink("/dev/null", `${root}/100/fd/0`);
    await Deno.symlink("socket:[4242]", `${root}/100/fd/3`);
    await Deno.symlink("/usr/bin/curl", `${root}/100/exe`);
    await Deno.symlink("socket:[1]", `${root}/200/fd/3`);
    await Deno.writeTextFile(`${root}/passwd`, `someone:x:${uid}:0::/:/bin/sh\n`);
    const s = new ProcSearcher({
      procRoot: root,
      passwdPath: `${root}/passwd`,
      localAddresses: () => ["192.0.2.1"],
    });
    assertEquals(await s.find("tcp", { host: "127.0.0.1", port: 40000 }), {
      pid: 100,
      path: "/usr/bin/curl",
      user: "someone",
      userId: uid,
    });
    assertEquals(
      await s.find("tcp", { host: "127.0.0.1", port: 40001 }),
      { pid: 0, path: "", user: undefined, userId: 1000 },
      "socket found in tcp6, no process holds it",
    );
    assertEquals(
      await s.find("tcp", { host: "198.51.100.1", port: 40000 }),
      undefined,
      "not a local address",
    );
    assertEquals(await s.find("udp", { host: "127.0.0.1", port: 40000 }), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ProcSearcher finds this process's own TCP and UDP sockets on the real system", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  const exe = await Deno.realPath(Deno.execPath());
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const s = new ProcSearcher();
    const tcp = await s.find("tcp", { host: "127.0.0.1", port: client.localAddr.port });
    assert(tcp, "client socket found");
    assertEquals([tcp.pid, tcp.path, tcp.userId], [Deno.pid, exe, Deno.uid()]);
    const u = await s.find("udp", { host: "127.0.0.1", port: (udp.addr as Deno.NetAddr).port });
    assertEquals([u?.pid, u?.path], [Deno.pid, exe]);
  } finally {
    client.close();
    server.close();
    listener.close();
    udp.close();
  }
});
