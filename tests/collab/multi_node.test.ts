import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { Keyring, launchCollab, mintToken, SCHEMA_VERSION, SessionDoc } from "../../collab/mod.ts";
import {
  type BusMessage,
  catchUpSubject,
  collabSubject,
  decodePeerMessage,
  encodeCatchUp,
} from "../../protocol/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitConverged, waitFor } from "./_support.ts";

const test = suite("collab nodes over NATS");
const run = haveNatsServer("collab nodes over NATS");

test("clients on two nodes see each other's edits and awareness; a node loading late catches up", async () => {
  const nats = await startTestNats();
  const da = tempDir("troupe-collab-a-"), db = tempDir("troupe-collab-b-");
  // One secret for both nodes, as a deployment would share TROUPE_SECRET.
  const a = await launchCollab({ dataDir: da.path, nats: nats.url, nodeId: "a" });
  const b = await launchCollab({ dataDir: db.path, nats: nats.url, nodeId: "b" });
  try {
    const tokenA = await tokenFor(da.path, "ops", "editor");
    const tokenB = await tokenFor(db.path, "ops", "editor");
    const ca = await connectClient(a.server.url, "ops", tokenA);
    ca.sdoc.addAnnotation({ id: "early", t: 1, channel: "BTC", text: "before b", author: "ana" });
    await waitFor(() => a.server.room("ops")?.sdoc.annotationList().length === 1, 5000, "a has it");
    // b loads the session after a's edit: it asks a for what it lacks.
    const cb = await connectClient(b.server.url, "ops", tokenB);
    await waitFor(() => cb.sdoc.annotationList().length === 1, 5000, "b's client catches up");
    ca.sdoc.setThreshold("anomaly", "BTC", { z: 4 }, "ana");
    cb.sdoc.setThreshold("anomaly", "ETH", { z: 3 }, "bo");
    await waitFor(
      () =>
        ca.sdoc.threshold("anomaly", "ETH") !== undefined &&
        cb.sdoc.threshold("anomaly", "BTC") !== undefined,
      5000,
      "each sees the other's threshold",
    );
    ca.provider.awareness.setLocalStateField("user", { name: "ana" });
    await waitFor(
      () => [...cb.provider.awareness.getStates().values()].some((s) => s.user?.name === "ana"),
      5000,
      "b's client sees a's client's awareness",
    );
    // Each node's bridge wrote its answer into the threshold its client set (no actor host here):
    // awareness, never journaled, may overtake those writes on their way to the other client.
    await waitConverged([ca.doc, cb.doc], 5000, "both clients to hold the same document");
    assert.equal(ca.doc.toJSON(), cb.doc.toJSON());
    ca.destroy();
    cb.destroy();
  } finally {
    await a.close();
    await b.close();
    await nats.cleanup();
    da.remove();
    db.remove();
  }
});

test("a catch-up answer that comes after catch_up_ms is merged when it comes", async () => {
  const nats = await startTestNats();
  const db = tempDir("troupe-collab-b-");
  const b = await launchCollab({ dataDir: db.path, nats: nats.url, nodeId: "b" });
  // The test plays a node held up (a collection, a loaded machine): it takes b's question and
  // answers only once b has served its client, long after catch_up_ms.
  const peer = await NatsBus.connect(nats.url, { name: "held-up-node" });
  const asked: BusMessage[] = [];
  const held = new SessionDoc();
  held.addAnnotation({
    id: "held",
    t: 1,
    channel: "BTC",
    text: "from a node held up",
    author: "a",
  });
  const subs = [
    peer.subscribe(catchUpSubject("ops"), (msg) => void (msg.reply && asked.push(msg))),
    peer.subscribe(collabSubject("ops"), (msg) => {
      const m = decodePeerMessage(msg.data);
      if (m.kind === "update") Y.applyUpdate(held.doc, m.payload);
    }),
  ];
  await peer.flush();
  try {
    const token = await tokenFor(db.path, "ops", "editor");
    const cb = await connectClient(b.server.url, "ops", token);
    await waitFor(() => asked.length === 1, 5000, "b's question");
    const question = asked[0]!;
    const diff = Y.encodeStateAsUpdate(held.doc, question.data);
    peer.publish(question.reply!, encodeCatchUp(diff, Y.encodeStateVector(held.doc)));
    await waitFor(
      () => cb.sdoc.annotationList().some((a) => a.id === "held"),
      5000,
      "b's client to get what the late answer carried",
    );
    // And b sent the held-up node what it lacked (b's schema stamp): they hold the same.
    await waitConverged([held.doc, cb.doc], 5000, "the held-up node to get b's part");
    assert.is(held.schemaVersion(), SCHEMA_VERSION);
    cb.destroy();
  } finally {
    for (const sub of subs) sub.unsubscribe();
    await peer.close();
    await b.close();
    await nats.cleanup();
    db.remove();
  }
});

test("one node killed (-9): its clients move to the other and lose nothing", async () => {
  const nats = await startTestNats();
  const da = tempDir("troupe-collab-a-"), db = tempDir("troupe-collab-b-");
  const secret = "a-shared-secret-for-both-nodes";
  process.env.TROUPE_SECRET = secret;
  const nodeA = startTroupe([
    "collab",
    "--port",
    "0",
    "--data-dir",
    da.path,
    "--nats",
    nats.url,
    "--node-id",
    "a",
  ]);
  const b = await launchCollab({ dataDir: db.path, nats: nats.url, nodeId: "b" });
  try {
    await nodeA.waitFor("/healthz");
    const urlA = `ws://127.0.0.1:${/127\.0\.0\.1:(\d+)\/collab/.exec(nodeA.output())![1]}/collab`;
    const ring = await Keyring.fromSecrets([new TextEncoder().encode(secret)]);
    const token = await mintToken(ring, {
      session: "ops",
      role: "editor",
      ttlS: 600,
      nowMs: Date.now(),
    });
    const onA = await connectClient(urlA, "ops", token);
    const onB = await connectClient(b.server.url, "ops", token);
    let n = 0;
    const editing = setInterval(() => {
      onA.sdoc.addAnnotation({ id: `a${n}`, t: n, channel: "BTC", text: "from a", author: "a" });
      n++;
    }, 3);
    await waitFor(() => onB.sdoc.annotationList().length >= 100, 20_000, "100 edits via NATS");
    nodeA.signal("SIGKILL");
    clearInterval(editing);
    await nodeA.exited;
    // The client of the dead node moves to b, keeping its document.
    onA.provider.destroy();
    const moved = await connectClient(b.server.url, "ops", token, { doc: onA.doc });
    await waitFor(
      () =>
        onB.sdoc.annotationList().length === n &&
        b.server.room("ops")!.sdoc.annotationList().length === n,
      10_000,
      `all ${n} of the moved client's edits on b`,
    );
    assert.equal(onB.doc.toJSON(), moved.doc.toJSON());
    moved.destroy();
    onB.destroy();
  } finally {
    delete process.env.TROUPE_SECRET;
    if (nodeA.child.exitCode === null && nodeA.child.signalCode === null) {
      nodeA.signal("SIGKILL");
    }
    await nodeA.exited;
    await b.close();
    await nats.cleanup();
    da.remove();
    db.remove();
  }
});

if (run) test.run();
