// Connection rules of RFC 9114 at the state level (no sockets): server push IDs and CANCEL_PUSH
// (§4.6, §7.2.3, §7.2.7), which frames may appear on which stream (§7.2, §6.2), and critical
// unidirectional streams (§6.2.1, §6.2.3).
import { assertEquals, assertThrows } from "../_util/assert.ts";
import { H3ConnectionState, STREAM_TYPE } from "../../src/http3/connection_state.ts";
import { H3_ERROR, H3Error } from "../../src/http3/errors.ts";
import { encodeSettingsFrame, FRAME, greaseType } from "../../src/http3/frames.ts";
import { ServerPushes } from "../../src/http3/push_state.ts";
import { varintBytes } from "../../src/http3/varint.ts";

const settingsPayload = (pairs: [number, number][]) => encodeSettingsFrame(pairs).subarray(2);

/** The H3 error code `fn` throws, in hex (so a mismatch names both codes). */
function codeOf(fn: () => unknown): string {
  const e = assertThrows(fn, H3Error);
  assertEquals(e.scope, "connection");
  return e.code.toString(16);
}

/** A server state whose client has sent SETTINGS and MAX_PUSH_ID `max`. */
function serverWithMaxPushId(max: number): H3ConnectionState {
  const s = new H3ConnectionState("server");
  s.onControlFrameHeader(FRAME.SETTINGS);
  s.onControlFrame(FRAME.SETTINGS, settingsPayload([]));
  s.onControlFrameHeader(FRAME.MAX_PUSH_ID);
  s.onControlFrame(FRAME.MAX_PUSH_ID, varintBytes(max));
  return s;
}

const cancelPush = (s: H3ConnectionState, id: number) => {
  s.onControlFrameHeader(FRAME.CANCEL_PUSH);
  return s.onControlFrame(FRAME.CANCEL_PUSH, varintBytes(id));
};

Deno.test("ServerPushes hands out push IDs in order up to MAX_PUSH_ID", () => {
  const p = new ServerPushes();
  assertEquals(p.reserve(-1), -1); // no MAX_PUSH_ID yet: no push
  assertEquals([p.reserve(1), p.reserve(1), p.reserve(1)], [0, 1, -1]);
  assertEquals(p.reserve(2), 2); // MAX_PUSH_ID raised
  assertEquals(p.promisedCount, 3);
  assertEquals([p.phase(0), p.phase(2)], ["promised", "promised"]);
});

Deno.test("ServerPushes: CANCEL_PUSH drops a push not started, aborts an open one, ignores an ended one", () => {
  const p = new ServerPushes();
  for (let i = 0; i < 3; i++) p.reserve(10);
  // Promised, no stream yet: never open it.
  assertEquals(p.cancel(0), "drop");
  assertEquals(p.phase(0), "cancelled");
  assertEquals(p.start(0), false);
  assertEquals(p.cancel(0), "none"); // a repeated CANCEL_PUSH changes nothing
  // Stream open: abandon it.
  assertEquals(p.start(1), true);
  assertEquals(p.phase(1), "streaming");
  assertEquals(p.cancel(1), "abort");
  assertEquals(p.phase(1), undefined);
  // Already sent in full.
  assertEquals(p.start(2), true);
  p.end(2);
  assertEquals(p.cancel(2), "none");
});

Deno.test("ServerPushes: CANCEL_PUSH for a push ID never promised is H3_ID_ERROR", () => {
  const p = new ServerPushes();
  p.reserve(10);
  assertEquals(codeOf(() => p.cancel(1)), H3_ERROR.ID_ERROR.toString(16));
  assertEquals(codeOf(() => new ServerPushes().cancel(0)), H3_ERROR.ID_ERROR.toString(16));
});

Deno.test("H3ConnectionState (server) applies CANCEL_PUSH: above MAX_PUSH_ID or unpromised is H3_ID_ERROR", () => {
  const id = H3_ERROR.ID_ERROR.toString(16);
  // Beyond the client's own MAX_PUSH_ID (§7.2.3 ¶7).
  assertEquals(codeOf(() => cancelPush(serverWithMaxPushId(3), 4)), id);
  // Before any MAX_PUSH_ID at all.
  const noMax = new H3ConnectionState("server");
  noMax.onControlFrameHeader(FRAME.SETTINGS);
  noMax.onControlFrame(FRAME.SETTINGS, settingsPayload([]));
  assertEquals(codeOf(() => cancelPush(noMax, 0)), id);
  // Within MAX_PUSH_ID but never named by a PUSH_PROMISE (§7.2.3 ¶8).
  assertEquals(codeOf(() => cancelPush(serverWithMaxPushId(3), 0)), id);
  // Promised: the event says what to do.
  const s = serverWithMaxPushId(3);
  assertEquals(s.pushes.reserve(s.maxPushId), 0);
  assertEquals(s.pushes.reserve(s.maxPushId), 1);
  s.pushes.start(1);
  assertEquals(cancelPush(s, 0), { kind: "cancel-push", id: 0, action: "drop" });
  assertEquals(cancelPush(s, 1), { kind: "cancel-push", id: 1, action: "abort" });
  // A payload that is not exactly one varint is H3_FRAME_ERROR.
  s.onControlFrameHeader(FRAME.CANCEL_PUSH);
  assertEquals(
    codeOf(() => s.onControlFrame(FRAME.CANCEL_PUSH, new Uint8Array([0, 0]))),
    H3_ERROR.FRAME_ERROR.toString(16),
  );
});

Deno.test("H3ConnectionState (client) accepts CANCEL_PUSH for a push it has not seen promised yet", () => {
  const c = new H3ConnectionState("client");
  c.maxPushId = 4;
  c.onControlFrameHeader(FRAME.SETTINGS);
  c.onControlFrame(FRAME.SETTINGS, settingsPayload([]));
  assertEquals(cancelPush(c, 2), { kind: "cancel-push", id: 2 }); // may overtake its PUSH_PROMISE
  assertEquals(codeOf(() => cancelPush(c, 5)), H3_ERROR.ID_ERROR.toString(16));
});

Deno.test("H3ConnectionState enforces SETTINGS first and once on the control stream", () => {
  const missing = H3_ERROR.MISSING_SETTINGS.toString(16);
  const unexpected = H3_ERROR.FRAME_UNEXPECTED.toString(16);
  for (const first of [FRAME.GOAWAY, FRAME.MAX_PUSH_ID, FRAME.CANCEL_PUSH, FRAME.DATA, greaseType(7)]) {
    assertEquals(codeOf(() => new H3ConnectionState("server").onControlFrameHeader(first)), missing);
  }
  const s = new H3ConnectionState("server");
  s.onControlFrameHeader(FRAME.SETTINGS);
  assertEquals(codeOf(() => s.onControlFrameHeader(FRAME.SETTINGS)), unexpected);
  // Reserved and unknown frame types after SETTINGS are ignored (§7.2.8, §9).
  s.onControlFrameHeader(greaseType(0));
  assertEquals(s.onControlFrame(greaseType(0), new Uint8Array(3)), undefined);
});

Deno.test("H3ConnectionState rejects frames on the wrong stream with H3_FRAME_UNEXPECTED", () => {
  const unexpected = H3_ERROR.FRAME_UNEXPECTED.toString(16);
  const server = new H3ConnectionState("server");
  server.onControlFrameHeader(FRAME.SETTINGS);
  // Control stream: DATA, HEADERS, PUSH_PROMISE. (The HTTP/2 types HTTP/3 reserves, 0x02 0x06 0x08
  // 0x09, are refused by FrameReader on every stream: frames_test.ts.)
  for (const t of [FRAME.DATA, FRAME.HEADERS, FRAME.PUSH_PROMISE]) {
    assertEquals(codeOf(() => server.onControlFrameHeader(t)), unexpected, `type ${t} on control`);
  }
  // MAX_PUSH_ID sent by a server.
  const client = new H3ConnectionState("client");
  client.onControlFrameHeader(FRAME.SETTINGS);
  assertEquals(codeOf(() => client.onControlFrameHeader(FRAME.MAX_PUSH_ID)), unexpected);
  // Request streams: control-only frames, PUSH_PROMISE to a server or on a push stream.
  for (const t of [FRAME.SETTINGS, FRAME.GOAWAY, FRAME.MAX_PUSH_ID, FRAME.CANCEL_PUSH]) {
    assertEquals(codeOf(() => server.onRequestFrameHeader(t)), unexpected, `type ${t} on a request`);
  }
  assertEquals(codeOf(() => server.onRequestFrameHeader(FRAME.PUSH_PROMISE)), unexpected);
  assertEquals(codeOf(() => client.onRequestFrameHeader(FRAME.PUSH_PROMISE, true)), unexpected);
  client.onRequestFrameHeader(FRAME.PUSH_PROMISE); // fine on a client's request stream
  client.onRequestFrameHeader(greaseType(5)); // reserved types are ignored
});

Deno.test("H3ConnectionState: SETTINGS with HTTP/2 identifiers or duplicates is H3_SETTINGS_ERROR", () => {
  const settingsError = H3_ERROR.SETTINGS_ERROR.toString(16);
  // HTTP/2's ENABLE_PUSH 0x02, MAX_CONCURRENT_STREAMS 0x03, INITIAL_WINDOW_SIZE 0x04 and
  // MAX_FRAME_SIZE 0x05 have no HTTP/3 counterpart and are reserved (RFC 9114 §7.2.4.1, §11.2.2).
  for (const id of [0x02, 0x03, 0x04, 0x05]) {
    const s = new H3ConnectionState("client");
    s.onControlFrameHeader(FRAME.SETTINGS);
    assertEquals(codeOf(() => s.onControlFrame(FRAME.SETTINGS, settingsPayload([[id, 1]]))), settingsError);
  }
  const dup = new H3ConnectionState("client");
  dup.onControlFrameHeader(FRAME.SETTINGS);
  assertEquals(
    codeOf(() => dup.onControlFrame(FRAME.SETTINGS, settingsPayload([[0x06, 1], [0x06, 2]]))),
    settingsError,
  );
});

Deno.test("H3ConnectionState: one control, encoder and decoder stream; push and bidirectional streams by role", () => {
  const creation = H3_ERROR.STREAM_CREATION_ERROR.toString(16);
  const s = new H3ConnectionState("server");
  assertEquals(s.onUniStream(STREAM_TYPE.CONTROL), "control");
  assertEquals(s.onUniStream(STREAM_TYPE.QPACK_ENCODER), "encoder");
  assertEquals(s.onUniStream(STREAM_TYPE.QPACK_DECODER), "decoder");
  assertEquals(s.onUniStream(greaseType(3)), "unknown");
  assertEquals(s.onUniStream(greaseType(3)), "unknown"); // any number of unknown streams
  for (
    const t of [STREAM_TYPE.CONTROL, STREAM_TYPE.QPACK_ENCODER, STREAM_TYPE.QPACK_DECODER, STREAM_TYPE.PUSH]
  ) {
    assertEquals(codeOf(() => s.onUniStream(t)), creation, `second stream of type ${t}`);
  }
  const c = new H3ConnectionState("client");
  c.maxPushId = 1;
  assertEquals(c.onUniStream(STREAM_TYPE.PUSH), "push");
  c.onPushStream(0);
  assertEquals(codeOf(() => c.onPushStream(0)), H3_ERROR.ID_ERROR.toString(16)); // same push ID twice
  assertEquals(codeOf(() => c.onPushStream(2)), H3_ERROR.ID_ERROR.toString(16)); // above MAX_PUSH_ID
  assertEquals(
    codeOf(() => c.onCriticalStreamClosed("control")),
    H3_ERROR.CLOSED_CRITICAL_STREAM.toString(16),
  );
  // A bidirectional stream opened by the server (§6.1); clients open them freely.
  assertEquals(codeOf(() => c.onPeerBidiStream()), creation);
  s.onPeerBidiStream();
});
