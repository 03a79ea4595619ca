import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import { type CollabLimits, launchCollab, type LaunchedCollab } from "../../collab/mod.ts";
import { tempDir } from "../_support/nats.ts";
import {
  connectClient,
  getText,
  metric,
  rawConnect,
  tokenFor,
  TRANSPORT_SCHEMA,
  waitFor,
  waitForMetric,
  withCollabServer,
} from "./_support.ts";
import { type RawFrame, rawWebSocket } from "./_raw_ws.ts";

const test = suite("collab server");

const withServer = (
  fn: (c: LaunchedCollab, dataDir: string, http: string) => Promise<void>,
  limits: Partial<CollabLimits> = {},
): Promise<void> => withCollabServer(limits, fn);

test("stock y-websocket clients sync through the server and see each other's edits", async () => {
  await withServer(async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const a = await connectClient(c.server.url, "ops", token);
    const b = await connectClient(c.server.url, "ops", token);
    try {
      a.sdoc.setThreshold("anomaly", "BTC", { z: 4 }, "ana");
      b.sdoc.addAnnotation({ id: "n1", t: 5, channel: "BTC", text: "look", author: "bo" });
      await waitFor(
        () => b.sdoc.threshold("anomaly", "BTC") !== undefined,
        5000,
        "b sees a's edit",
      );
      await waitFor(() => a.sdoc.annotationList().length === 1, 5000, "a sees b's edit");
      assert.equal(b.sdoc.threshold("anomaly", "BTC")?.settings, { z: 4 });
      assert.is(b.sdoc.schemaVersion(), 1, "the server stamps the schema version on load");
      // Awareness reaches the other client through the server.
      a.provider.awareness.setLocalStateField("user", { name: "ana" });
      await waitFor(
        () => [...b.provider.awareness.getStates().values()].some((s) => s.user?.name === "ana"),
        5000,
        "b sees a's awareness",
      );
      const m = await getText(`${http}/metrics`);
      assert.is(metric(m, "troupe_collab_connections"), 2);
      assert.is(metric(m, "troupe_collab_sessions_loaded"), 1);
      // Two edits; the clients' sync step 2s held nothing and are not updates.
      assert.is(metric(m, "troupe_collab_updates_in_total"), 2, m);
      assert.ok(metric(m, "troupe_collab_updates_out_total") >= 2, m);
      assert.ok(metric(m, "troupe_collab_messages_in_total") > 2, m);
      assert.ok(metric(m, "troupe_collab_bytes_in_total") > 0, m);
      assert.ok(metric(m, "troupe_collab_bytes_out_total") > 0, m);
      assert.match(m, /^troupe_collab_persistence_lag_seconds\{[^}]*\} \d/m);
      const h = JSON.parse(await getText(`${http}/healthz`));
      assert.equal([h.ok, h.connections, h.sessions], [true, 2, 1]);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

test("/healthz and /metrics answer GET and HEAD, and refuse another method with 405 as a host does", async () => {
  await withServer(async (_c, _dir, http) => {
    for (const path of ["/healthz", "/metrics"]) {
      assert.is((await fetch(`${http}${path}?x=1`, { method: "HEAD" })).status, 200, path);
      const post = await fetch(`${http}${path}`, { method: "POST", body: "x" });
      assert.is(post.status, 405, path);
      assert.is(post.headers.get("allow"), "GET, HEAD");
      assert.match(await post.text(), `Method POST not allowed on ${path}`);
    }
  });
});

test("a server on a wildcard address gives a URL this machine reaches", async () => {
  const dir = tempDir("troupe-collab-");
  const c = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path, host: "0.0.0.0" });
  try {
    assert.is(c.server.url, `ws://127.0.0.1:${c.server.port}/collab`);
    const a = await connectClient(c.server.url, "ops", await tokenFor(dir.path, "ops", "viewer"));
    a.destroy();
  } finally {
    await c.close();
    dir.remove();
  }
});

test("a missing, wrong, expired or other-session token is refused with 401 before any document loads", async () => {
  await withServer(async (c, dir, http) => {
    const other = tempDir("troupe-collab-other-");
    try {
      const cases: [string, string | undefined][] = [
        ["missing", undefined],
        ["malformed", "garbage"],
        ["unknown_key", await tokenFor(other.path, "ops", "owner")],
        ["expired", await tokenFor(dir, "ops", "owner", 0.001)],
        ["session", await tokenFor(dir, "finance", "owner")],
      ];
      await new Promise((r) => setTimeout(r, 20));
      for (const [reason, token] of cases) {
        const url = `${c.server.url}/ops` + (token === undefined ? "" : `?token=${token}`);
        const r = await rawConnect(url);
        assert.ok("status" in r, `${reason}: the upgrade must be refused`);
        if ("status" in r) {
          assert.is(r.status, 401, reason);
          assert.ok(r.body.length > 0, `${reason}: the body says why`);
        }
      }
      assert.equal(c.server.sessions(), [], "no document was loaded");
      const m = await getText(`${http}/metrics`);
      for (const [reason] of cases) {
        assert.is(
          metric(m, "troupe_collab_tokens_rejected_total", `reason="${reason}"`),
          1,
          reason,
        );
      }
      const bad = await rawConnect(`${c.server.url}/a.b?token=x`);
      assert.ok("status" in bad && bad.status === 400);
      const none = await rawConnect(`ws://127.0.0.1:${c.server.port}/elsewhere`);
      assert.ok("status" in none && none.status === 404);
    } finally {
      other.remove();
    }
  });
});

test("a token that expires while connected closes that socket with 4401; its reconnect is refused, others stay", async () => {
  await withServer(async (c, dir, http) => {
    // Expiry is in whole seconds, floor(now + ttl): a 1 s token minted late in a second expired
    // before the connections below were made; this one is valid for 2-3 s.
    const short = await tokenFor(dir, "ops", "editor", 3);
    const stock = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "editor"));
    const r = await rawConnect(`${c.server.url}/ops?token=${short}`);
    if (!("ws" in r)) throw new Error(`refused: ${r.status} ${r.body}`);
    let close: { code: number; reason: string } | undefined;
    r.ws.on("close", (code, reason) => (close = { code, reason: reason.toString() }));
    try {
      await waitFor(() => close !== undefined, 10_000, "the expiry close");
      assert.is(close!.code, 4401);
      assert.match(close!.reason, /^token expired at \d{4}-/);
      const again = await rawConnect(`${c.server.url}/ops?token=${short}`);
      assert.ok("status" in again && again.status === 401, "the same token is refused now");
      const m = await getText(`${http}/metrics`);
      assert.is(metric(m, "troupe_collab_sockets_closed_total", 'reason="expired"'), 1, m);
      assert.ok(stock.provider.wsconnected, "a client whose token holds stays connected");
    } finally {
      stock.destroy();
      r.ws.terminate();
    }
  });
});

test("an update reaches the other clients, and a joining client's first sync answer, only once the journal has written it", async () => {
  await withServer(async (c, dir) => {
    const token = await tokenFor(dir, "ops", "editor");
    const a = await connectClient(c.server.url, "ops", token);
    const b = await connectClient(c.server.url, "ops", token);
    // The real file journal, its write held back until released.
    const journal = c.store.journal;
    const write = journal.sync.bind(journal);
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let written = 0;
    journal.sync = async () => {
      await held;
      await write();
      written++;
    };
    let writtenWhenSeen: number | undefined;
    b.doc.getArray("log").observe(() => (writtenWhenSeen ??= written));
    let late: Awaited<ReturnType<typeof connectClient>> | undefined;
    try {
      a.doc.getArray<string>("log").push(["held"]);
      const room = c.server.room("ops")!;
      await waitFor(() => room.doc.getArray("log").length === 1, 5000, "the server applied it");
      late = await connectClient(c.server.url, "ops", token, { waitSync: false });
      await new Promise((r) => setTimeout(r, 300));
      assert.is(b.doc.getArray("log").length, 0, "relayed before the journal wrote it");
      assert.is(late.provider.synced, false, "a sync answer before the journal wrote the update");
      release();
      await waitFor(() => b.doc.getArray("log").length === 1, 5000, "the relay");
      await waitFor(() => late!.provider.synced, 5000, "the late client's sync");
      assert.ok(writtenWhenSeen !== undefined && writtenWhenSeen >= 1, `${writtenWhenSeen}`);
      assert.equal(late.doc.getArray("log").toArray(), ["held"]);
    } finally {
      release();
      a.destroy();
      b.destroy();
      late?.destroy();
    }
  });
});

test("a viewer receives edits and awareness but its writes are dropped and counted", async () => {
  await withServer(async (c, dir, http) => {
    const editor = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "editor"));
    const viewer = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "viewer"));
    try {
      editor.sdoc.setStep({ id: "s1", title: "check", status: "todo", assignee: "", due: 0 });
      await waitFor(() => viewer.sdoc.steps().length === 1, 5000, "the viewer sees the edit");
      editor.provider.awareness.setLocalStateField("user", { name: "ed" });
      await waitFor(
        () =>
          [...viewer.provider.awareness.getStates().values()].some((s) => s.user?.name === "ed"),
        5000,
        "the viewer sees the editor's awareness",
      );
      viewer.sdoc.setStep({ id: "s2", title: "sneaky", status: "todo", assignee: "", due: 0 });
      const metrics = `${http}/metrics`;
      assert.is(await waitForMetric(metrics, "troupe_collab_viewer_writes_dropped_total", 1), 1);
      editor.sdoc.setStep({ id: "s3", title: "after", status: "todo", assignee: "", due: 0 });
      // The server dropped the viewer's step (counted above) before the editor wrote this one.
      const server = c.server.room("ops")!.sdoc;
      await waitFor(
        () => server.steps().some((s) => s.id === "s3"),
        5000,
        "the editor's later step on the server",
      );
      assert.equal(server.steps().map((s) => s.id), ["s1", "s3"], "the viewer's step never landed");
      assert.equal(editor.sdoc.steps().map((s) => s.id), ["s1", "s3"]);
    } finally {
      editor.destroy();
      viewer.destroy();
    }
  });
});

test("a document is persisted: a new server on the same data directory serves every edit", async () => {
  const dir = tempDir("troupe-collab-");
  try {
    const first = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path });
    const token = await tokenFor(dir.path, "ops", "owner");
    const a = await connectClient(first.server.url, "ops", token);
    for (let i = 0; i < 30; i++) {
      a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "BTC", text: `note ${i}`, author: "ana" });
    }
    await waitFor(() => first.server.room("ops")?.sdoc.annotationList().length === 30, 5000, "30");
    a.destroy();
    await first.close();
    const second = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path });
    try {
      const b = await connectClient(second.server.url, "ops", token);
      assert.is(b.sdoc.annotationList().length, 30);
      assert.is(b.sdoc.annotationList()[29]?.text, "note 29");
      b.destroy();
    } finally {
      await second.close();
    }
  } finally {
    dir.remove();
  }
});

test("a client's first sync answer comes only once the stored document is fully loaded", async () => {
  const dir = tempDir("troupe-collab-");
  try {
    const first = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path });
    const token = await tokenFor(dir.path, "ops", "owner");
    const a = await connectClient(first.server.url, "ops", token);
    for (let i = 0; i < 20; i++) {
      a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "BTC", text: `note ${i}`, author: "a" });
    }
    await waitFor(() => first.server.room("ops")?.sdoc.annotationList().length === 20, 5000, "20");
    a.destroy();
    await first.close();
    const second = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path });
    // The real store, its load held back until released.
    const store = second.store;
    const load = store.load.bind(store);
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    store.load = async (session, doc) => {
      await held;
      return await load(session, doc);
    };
    let b: Awaited<ReturnType<typeof connectClient>> | undefined;
    try {
      b = await connectClient(second.server.url, "ops", token, { waitSync: false });
      await new Promise((r) => setTimeout(r, 300));
      assert.is(b.provider.synced, false, "answered before the document was loaded");
      release();
      await waitFor(() => b!.provider.synced, 5000, "the sync once loaded");
      // Synced means the server's answer came: it must hold everything at once.
      assert.is(b.sdoc.annotationList().length, 20);
    } finally {
      release();
      b?.destroy();
      await second.close();
    }
  } finally {
    dir.remove();
  }
});

test("an idle document is unloaded (compacted) and loaded again on demand", async () => {
  const dir = tempDir("troupe-collab-");
  const c = await launchCollab({
    schema: TRANSPORT_SCHEMA,
    dataDir: dir.path,
    limits: { idle_unload_ms: 200 },
  });
  try {
    const token = await tokenFor(dir.path, "ops", "editor");
    const a = await connectClient(c.server.url, "ops", token);
    a.sdoc.setScan({ name: "brk", channels: ["BTC"], params: { window: 20 } });
    await waitFor(() => c.server.room("ops")?.sdoc.scan("brk") !== undefined, 5000, "scan lands");
    a.destroy();
    await waitFor(() => c.server.sessions().length === 0, 5000, "the idle session to unload");
    // Unloading compacts.
    const metrics = `http://127.0.0.1:${c.server.port}/metrics`;
    await waitForMetric(metrics, "troupe_collab_compactions_total", 1);
    const b = await connectClient(c.server.url, "ops", token);
    assert.equal(b.sdoc.scan("brk")?.params, { window: 20 });
    b.destroy();
  } finally {
    await c.close();
    dir.remove();
  }
});

test("a loaded document is compacted every N journal records and every T seconds", async () => {
  const compactions = async (http: string) =>
    metric(await getText(`${http}/metrics`), "troupe_collab_compactions_total");
  await withServer(async (c, dir, http) => {
    const a = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "editor"));
    try {
      // Every 10 records: the schema stamp and 25 edits make two snapshots, not one per edit.
      // Each edit is let become durable before the next: a compaction waits for an empty queue,
      // so edits queued behind a slow sync would move it past the 10th record.
      for (let i = 0; i < 25; i++) {
        a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "BTC", text: `${i}`, author: "a" });
        const room = c.server.room("ops");
        await waitFor(() => room?.sdoc.annotationList().length === i + 1, 5000, `edit ${i}`);
        await room!.durable();
      }
      await c.server.room("ops")!.durable();
      assert.is(await compactions(http), 2);
      assert.is(c.store.sinceSnapshot("ops"), 6, "records past the last snapshot");
    } finally {
      a.destroy();
    }
  }, { compact_every_updates: 10, compact_every_ms: 600_000 });
  await withServer(async (c, dir, http) => {
    const a = await connectClient(c.server.url, "ops", await tokenFor(dir, "ops", "editor"));
    try {
      // Every 300 ms: a record is compacted though no 1000th came, with the client still on.
      a.sdoc.addAnnotation({ id: "late", t: 1, channel: "BTC", text: "late", author: "a" });
      const room = c.server.room("ops")!;
      await waitFor(() => room.sdoc.annotationList().length === 1, 5000, "the edit");
      await room.durable();
      await waitFor(() => c.store.sinceSnapshot("ops") === 0, 5000, "the timed compaction");
      assert.ok((await compactions(http)) >= 1);
      assert.equal(c.server.sessions(), ["ops"], "the session stayed loaded");
    } finally {
      a.destroy();
    }
  }, { compact_every_updates: 1000, compact_every_ms: 300 });
});

test("two clients editing while cut off from each other converge when they meet", async () => {
  await withServer(async (c, dir) => {
    const token = await tokenFor(dir, "ops", "editor");
    const a = await connectClient(c.server.url, "ops", token);
    const b = await connectClient(c.server.url, "ops", token);
    a.provider.disconnect();
    b.provider.disconnect();
    a.sdoc.setThreshold("anomaly", "BTC", { z: 4 }, "ana");
    a.sdoc.addAnnotation({ id: "fa", t: 1, channel: "BTC", text: "from a", author: "ana" });
    b.sdoc.setThreshold("anomaly", "ETH", { z: 3 }, "bo");
    b.sdoc.addAnnotation({ id: "fb", t: 2, channel: "ETH", text: "from b", author: "bo" });
    a.provider.connect();
    b.provider.connect();
    await waitFor(
      () => a.sdoc.annotationList().length === 2 && b.sdoc.annotationList().length === 2,
      5000,
      "both to have both annotations",
    );
    assert.equal(a.doc.toJSON(), b.doc.toJSON());
    assert.equal(
      Y.encodeStateVector(a.doc),
      Y.encodeStateVector(b.doc),
    );
    a.destroy();
    b.destroy();
  });
});

/** A y-websocket `update` message (sync, sub-type 2) holding `update`. */
function updateMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  syncProtocol.writeUpdate(e, update);
  return encoding.toUint8Array(e);
}

/** The Yjs update of a y-websocket sync `update` message, or undefined for any other message. */
function updateOf(data: Uint8Array): Uint8Array | undefined {
  const d = decoding.createDecoder(data);
  if (decoding.readVarUint(d) !== 0 || decoding.readVarUint(d) !== 2) return undefined;
  return decoding.readVarUint8Array(d);
}

test("updates that become durable together reach each other connection as one merged message, and none its writer", async () => {
  await withServer(async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const path = `/collab/ops?token=${token}`;
    const writer = await rawWebSocket(c.server.port, path);
    const reader = await rawWebSocket(c.server.port, path);
    const got = { writer: [] as Uint8Array[], reader: [] as Uint8Array[] };
    const collect = (into: Uint8Array[]) => (f: RawFrame) => {
      const u = f.op === "binary" ? updateOf(f.data) : undefined;
      if (u) into.push(u);
    };
    writer.resume(collect(got.writer));
    reader.resume(collect(got.reader));
    try {
      // Both joined (each got the server's sync step 1) before anything is written.
      await waitFor(() => c.server.room("ops")?.conns.size === 2, 5000, "both connections joined");
      const doc = new Y.Doc();
      const updates: Uint8Array[] = [];
      doc.on("update", (u: Uint8Array) => updates.push(u));
      for (let i = 0; i < 5; i++) doc.getArray<number>("log").push([i]);
      // Five messages in one write: the server reads them in one turn, and journals them together.
      writer.socket.cork();
      for (const u of updates) writer.send(updateMessage(u));
      writer.socket.uncork();
      const room = c.server.room("ops")!;
      await waitFor(() => room.doc.getArray("log").length === 5, 5000, "the server has all five");
      await waitFor(() => got.reader.length > 0, 5000, "the reader's update");
      await room.durable();
      await new Promise((r) => setTimeout(r, 100)); // anything else sent would have come by now
      assert.is(got.reader.length, 1, "one message for five updates");
      const mirror = new Y.Doc();
      Y.applyUpdate(mirror, got.reader[0]!);
      assert.equal(mirror.getArray("log").toArray(), [0, 1, 2, 3, 4]);
      assert.is(got.writer.length, 0, "the writer gets none of its own updates back");
      const m = await getText(`${http}/metrics`);
      assert.is(metric(m, "troupe_collab_updates_merged_total"), 5, m);
      assert.is(metric(m, "troupe_collab_updates_out_total"), 1, m);
    } finally {
      writer.socket.destroy();
      reader.socket.destroy();
    }
  });
});

test("a connection's messages are handled in its order: a sync step 1 between two updates is answered with the first, not the second", async () => {
  await withServer(async (c, dir) => {
    const token = await tokenFor(dir, "ops", "editor");
    const ws = await rawWebSocket(c.server.port, `/collab/ops?token=${token}`);
    const answers: Uint8Array[] = [];
    ws.resume((f) => {
      if (f.op !== "binary") return;
      const d = decoding.createDecoder(f.data);
      if (decoding.readVarUint(d) === 0 && decoding.readVarUint(d) === 1) {
        answers.push(decoding.readVarUint8Array(d));
      }
    });
    try {
      await waitFor(() => c.server.room("ops")?.conns.size === 1, 5000, "the connection joined");
      const doc = new Y.Doc();
      const updates: Uint8Array[] = [];
      doc.on("update", (u: Uint8Array) => updates.push(u));
      doc.getArray<number>("log").push([0]);
      doc.getArray<number>("log").push([1]);
      const step1 = encoding.createEncoder();
      encoding.writeVarUint(step1, 0);
      syncProtocol.writeSyncStep1(step1, new Y.Doc());
      // One write: the step 1's answer waits for the first update to be durable, and the second
      // update waits for that answer.
      ws.socket.cork();
      ws.send(updateMessage(updates[0]!));
      ws.send(encoding.toUint8Array(step1));
      ws.send(updateMessage(updates[1]!));
      ws.socket.uncork();
      await waitFor(() => answers.length === 1, 5000, "the answer to the sync step 1");
      const mirror = new Y.Doc();
      Y.applyUpdate(mirror, answers[0]!);
      assert.equal(mirror.getArray("log").toArray(), [0]);
      const room = c.server.room("ops")!;
      await waitFor(() => room.doc.getArray("log").length === 2, 5000, "the second update");
      assert.equal(room.doc.getArray("log").toArray(), [0, 1]);
    } finally {
      ws.socket.destroy();
    }
  });
});

test.run();
