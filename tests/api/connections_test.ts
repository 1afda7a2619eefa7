/**
 * The Clash API's live views with real curl: `/connections` lists a streaming download with
 * sing-box's fields, `/traffic` streams per-second byte deltas over chunked HTTP and a
 * WebSocket, and `DELETE /connections/{id}` closes the connection.
 */
import { assert, assertEquals } from "../_util/assert.ts";
import { api, startNamedOrigin, waitFor } from "../_util/clash.ts";
import { curl, startSwitchyard } from "../_util/mod.ts";
import { apiSetup, SECRET } from "./_config.ts";

const secret = SECRET;

Deno.test("Clash API: /connections lists and closes a live connection, /traffic streams its bytes", async () => {
  const [originA, originB] = [startNamedOrigin("A"), startNamedOrigin("B")];
  const s = await apiSetup([originA.port, originB.port]);
  const port = s.apiPort;
  const sy = await startSwitchyard(s.config, [s.mixed, port]);
  const download = new Deno.Command("curl", {
    args: ["-s", "-N", "--max-time", "30", "-x", `http://127.0.0.1:${s.mixed}`, "http://127.0.0.1:1/stream"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let downloadDone = false;
  try {
    let conn: any;
    await waitFor(
      async () => {
        conn = (await api(port, "/connections", { secret })).json?.connections?.[0];
        return conn?.download > 0;
      },
      5000,
      "a connection with downloaded bytes",
    );
    assert(/^\d+$/.test(conn.id), `id ${conn.id}`);
    assertEquals(conn.metadata, {
      network: "tcp",
      type: "mixed/in",
      sourceIP: "127.0.0.1",
      destinationIP: "127.0.0.1",
      sourcePort: conn.metadata.sourcePort,
      destinationPort: "1",
      host: "",
      dnsMode: "normal",
      processPath: "",
    });
    assert(Number(conn.metadata.sourcePort) > 0);
    assert(conn.upload > 0, "the request went up");
    assertEquals([conn.chains, conn.rule, conn.rulePayload], [["a", "sel"], "final", ""]);
    assert(Math.abs(Date.parse(conn.start) - Date.now()) < 10_000, `start ${conn.start}`);
    const snap = (await api(port, "/connections", { secret })).json;
    assert(snap.downloadTotal >= conn.download && snap.memory > 0, JSON.stringify(snap).slice(0, 300));

    const traffic = await curl([
      "-N",
      "--max-time",
      "2.6",
      "-H",
      `Authorization: Bearer ${secret}`,
      `http://127.0.0.1:${port}/traffic`,
    ]);
    const samples = traffic.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert(samples.length >= 2, `two samples in 2.6 s: ${traffic.stdout}`);
    assert(samples.every((x) => Object.keys(x).join() === "up,down"), traffic.stdout);
    assert(samples.some((x) => x.down > 0), `the stream is still downloading: ${traffic.stdout}`);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/connections?token=${secret}&interval=200`);
    const pushed: any[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onmessage = (e) => {
        pushed.push(JSON.parse(String(e.data)));
        if (pushed.length === 2) resolve();
      };
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    ws.close();
    await new Promise((r) => ws.onclose = r);
    assertEquals(pushed[1].connections[0].id, conn.id);

    const t0 = performance.now();
    assertEquals((await api(port, `/connections/${conn.id}`, { method: "DELETE", secret })).status, 204);
    await download.status;
    downloadDone = true;
    assert(performance.now() - t0 < 5000, "DELETE closed the download");
    await waitFor(
      async () => (await api(port, "/connections", { secret })).json.connections.length === 0,
      3000,
      "no connections",
    );
    assertEquals(
      (await api(port, "/connections/12345", { method: "DELETE", secret })).status,
      204,
      "unknown ids are fine",
    );
  } finally {
    if (!downloadDone) {
      download.kill();
      await download.status;
    }
    await download.stdout.cancel().catch(() => {});
    await sy.stop();
    await originA.close();
    await originB.close();
    await Deno.remove(s.dir, { recursive: true });
  }
});
