import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { launchCollab, replaySessions, SessionDoc, SessionReplay } from "../../collab/mod.ts";
import { applyUpdate, Doc } from "yjs";
import { Recorder, RecordingReader } from "../../sim/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor } from "./_support.ts";
import { encodePeerMessage } from "../../protocol/mod.ts";

/** JSON with every object's keys sorted (replicas may order a map's keys differently). */
function canon(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
  );
}

/** Every part of a session document (toJSON shows only the parts a replica has asked for). */
function view(doc: Doc): Record<string, unknown> {
  const s = new SessionDoc(doc);
  return {
    dashboard: s.dashboard.toJSON(),
    thresholds: s.thresholds.toJSON(),
    annotations: s.annotations.toJSON(),
    workflow: s.workflow.toJSON(),
    scans: s.scans.toJSON(),
  };
}

const test = suite("collab sessions recorded and replayed");

test("troupe replay rebuilds each recorded session's document and --verify checks it against the recorded checkpoints", async () => {
  const dir = tempDir("troupe-collab-rec-");
  const path = join(dir.path, "session.rec");
  const bus = new InProcessBus();
  const recorder = Recorder.start(bus, { path, header: { source: "test" } });
  const collab = await launchCollab({
    dataDir: join(dir.path, "collab"),
    bus,
    nodeId: "n1",
    bridge: false,
    limits: { compact_every_updates: 10 },
  });
  let expected: unknown;
  try {
    const token = await tokenFor(join(dir.path, "collab"), "ops", "editor");
    const a = await connectClient(collab.server.url, "ops", token);
    const b = await connectClient(collab.server.url, "ops", token);
    for (let i = 0; i < 25; i++) {
      a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "BTC", text: `note ${i}`, author: "a" });
      b.sdoc.setStep({
        id: `s${i % 5}`,
        title: `step ${i}`,
        status: "doing",
        assignee: "b",
        due: 0,
      });
    }
    b.sdoc.workflow.delete("s1");
    a.doc.getArray("annotations").delete(0, 3);
    await waitFor(
      () =>
        collab.server.room("ops")?.sdoc.annotationList().length === 22 &&
        collab.server.room("ops")?.sdoc.steps().length === 4,
      5000,
      "the server to have every edit",
    );
    await waitFor(
      () => canon(view(a.doc)) === canon(view(b.doc)),
      5000,
      "a = b",
    );
    expected = view(a.doc);
    a.destroy();
    b.destroy();
  } finally {
    await collab.close();
    await bus.flush();
    recorder.stop();
  }
  try {
    const [ops, ...others] = await replaySessions(path, { verify: true });
    assert.is(others.length, 0);
    assert.is(ops!.session, "ops");
    assert.ok(ops!.updates > 25, `${ops!.updates} updates`);
    assert.ok(ops!.checkpoints >= 2, `${ops!.checkpoints} checkpoints`);
    assert.equal(ops!.verified, { ok: true, problems: [] });
    const rebuilt = new Doc();
    applyUpdate(rebuilt, ops!.state);
    const json = view(rebuilt);
    assert.is(canon(json), canon(expected));

    // A recording that lost one update no longer verifies.
    const reader = await RecordingReader.open(path);
    const lossy = new SessionReplay();
    let dropped = false;
    for await (const batch of reader.batches()) {
      for (const m of batch) {
        // peer message: varstring node "n1" (3 bytes), then the kind (0 = update)
        if (!dropped && m.subject === "troupe.collab.ops" && m.data[3] === 0 && m.index > 20) {
          dropped = true;
          continue;
        }
        lossy.add(m.subject, m.data);
      }
    }
    assert.ok(dropped);
    const [bad] = lossy.results(true);
    assert.is(bad!.verified!.ok, false);
    assert.match(bad!.verified!.problems.join("; "), "checkpoint");

    // A checkpoint that is not a Yjs update is counted as undecodable, not thrown from results.
    const garbled = new SessionReplay();
    for await (const batch of reader.batches()) {
      for (const m of batch) garbled.add(m.subject, m.data);
    }
    garbled.add(
      "troupe.collab.ops",
      encodePeerMessage({ node: "n1", kind: "state", payload: Uint8Array.of(0xff, 0xff, 7) }),
    );
    const [junk] = garbled.results(true);
    assert.is(junk!.verified!.ok, false);
    assert.match(junk!.verified!.problems.join("; "), "1 recorded messages could not be decoded");

    const r = await runTroupe(["replay", path, "--verify"]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /session ops: \d+ updates, \d+ checkpoints, \d+ bytes rebuilt; verified/,
    );
  } finally {
    dir.remove();
  }
});

test("troupe record captures troupe.collab.> from a node on NATS; troupe replay --verify rebuilds the session the clients had", async () => {
  if (!haveNatsServer("troupe record of a collab node")) return;
  const nats = await startTestNats();
  const dir = tempDir("troupe-collab-rec-nats-");
  const path = join(dir.path, "live.rec");
  const rec = startTroupe(["record", "--out", path, "--nats", nats.url]);
  let expected: unknown;
  try {
    await rec.waitFor("Ctrl-C to stop");
    const collab = await launchCollab({
      dataDir: dir.path,
      nats: nats.url,
      nodeId: "n1",
      bridge: false,
      stream: false,
    });
    try {
      const token = await tokenFor(dir.path, "ops", "editor");
      const a = await connectClient(collab.server.url, "ops", token);
      for (let i = 0; i < 12; i++) {
        a.sdoc.addAnnotation({ id: `n${i}`, t: i, channel: "BTC", text: `note ${i}`, author: "a" });
      }
      a.sdoc.setThreshold("anomaly", "BTC", { z: 4 }, "a");
      a.doc.getArray("annotations").delete(0, 2);
      const room = collab.server.room("ops")!;
      await waitFor(() => room.sdoc.annotationList().length === 10, 5000, "every edit");
      await room.durable();
      expected = view(a.doc);
      a.destroy();
    } finally {
      await collab.close(); // unloading publishes the session's last checkpoint
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    rec.signal("SIGINT");
    await rec.exited;
    await nats.cleanup();
  }
  try {
    assert.match(rec.output(), /collab \d+/, rec.output());
    const r = await runTroupe(["replay", path, "--verify"]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /session ops: \d+ updates, \d+ checkpoints, \d+ bytes rebuilt; verified/,
    );
    const [ops] = await replaySessions(path, { verify: true });
    const rebuilt = new Doc();
    applyUpdate(rebuilt, ops!.state);
    assert.is(canon(view(rebuilt)), canon(expected));
  } finally {
    dir.remove();
  }
});

test.run();
