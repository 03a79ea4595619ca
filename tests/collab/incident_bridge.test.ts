/**
 * Silences and acks through the bridge, against real parts: a nats-server, the collab server, the
 * incident stage on its own NATS connection and stock y-websocket clients. A silence one editor
 * writes is seen by another, reaches the stage and marks the incident's next updates silenced; a
 * viewer's silence never reaches the document nor the stage; an ack of an unknown incident is
 * refused with the reason and kept; a malformed silence is refused naming its field and value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { Host, MemoryJournal, MemorySnapshotStore, NatsBus } from "../../actors/runtime/mod.ts";
import { statsActor } from "../../actors/mod.ts";
import { COLLAB_CLOSE_REFUSED, launchCollab, SessionIncidents } from "../../collab/mod.ts";
import {
  decodeIncident,
  decodeIncidentControl,
  encodeEventEnvelope,
  findingSubject,
  type Incident,
  incidentControlSubject,
  SUBJECT_ROOT,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, waitFor, waitForMetric } from "./_support.ts";

const test = suite("collab bridge to the incident stage");
const run = haveNatsServer("collab bridge to the incident stage");

const S = 1_000_000;

test("a silence an editor writes holds in another editor's view and marks the stage's incidents; a viewer's is refused; an unknown ack and a bad matcher are refused with the reason and kept", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-incident-bridge-");
  const bus = await NatsBus.connect(nats.url);
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  const collab = await launchCollab({
    dataDir: join(dir.path, "collab"),
    nats: nats.url,
    bridgeOptions: { timeoutMs: 3000 },
  });
  const feed = await NatsBus.connect(nats.url);
  const clients: Array<{ destroy(): void }> = [];
  try {
    const updates: Incident[] = [];
    feed.subscribe(
      `${SUBJECT_ROOT}.out.incident.*`,
      (m) => updates.push(decodeIncident(m.data).incident),
    );
    let controls = 0;
    const ackedBy: Array<string | undefined> = [];
    feed.subscribe(incidentControlSubject(), (m) => {
      controls++;
      const { control } = decodeIncidentControl(m.data);
      if (control.type === "ack") ackedBy.push(control.by);
    });
    await feed.flush();
    // Event time runs ahead of the wall here, so the silence's time (now) is behind it by then.
    const t0 = Date.now() * 1000;
    let n = 0;
    const finding = (channel: string, ts: number) =>
      feed.publish(
        findingSubject("anomaly", channel),
        encodeEventEnvelope(
          { id: `in${n++}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts },
          { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
        ),
      );
    finding("SYM1", t0 - 10 * S);
    finding("SYM1", t0 - 7 * S); // the stage takes findings 2 s behind the latest
    await waitFor(() => updates.length > 0, 5000, "the incident to open");
    const id = updates[0]!.id;
    assert.is(updates[0]!.silenced, false);

    const url = collab.server.url;
    const editorToken = await tokenFor(join(dir.path, "collab"), "ops", "editor");
    const ana = await connectClient(url, "ops", editorToken);
    const bo = await connectClient(url, "ops", editorToken);
    const vic = await connectClient(
      url,
      "ops",
      await tokenFor(join(dir.path, "collab"), "ops", "viewer"),
    );
    clients.push(ana, bo, vic);
    const anaInc = new SessionIncidents(ana.doc);
    const boInc = new SessionIncidents(bo.doc);
    const vicInc = new SessionIncidents(vic.doc);

    // A viewer's silence is dropped at the server: not in anyone's view, nothing sent to the stage.
    vicInc.addSilence({
      id: "v1",
      matchers: "kind=anomaly",
      ends_ms: Date.now() + 3600_000,
      by: "vic",
      reason: "r",
    }, Date.now());
    // The server has decided once it counted the write dropped: never applied, so never relayed
    // nor bridged (the stage's answer to the next silence counts one, and one control went).
    const metrics = `http://127.0.0.1:${collab.server.port}/metrics`;
    assert.is(await waitForMetric(metrics, "troupe_collab_viewer_writes_dropped_total", 1), 1);
    assert.not.ok(collab.server.room("ops")!.doc.getMap("silences").has("v1"), "nothing stored");

    anaInc.addSilence({
      id: "s1",
      matchers: "kind=anomaly channel=~SYM*",
      ends_ms: Date.now() + 2 * 3600_000,
      by: "ana",
      reason: "maintenance window",
    }, Date.now());
    await waitFor(() => anaInc.silences.get("s1")?.status === "ok", 5000, "the stage's answer");
    assert.match(anaInc.silences.get("s1")!.detail!, "1 silence(s) of session ops");
    await waitFor(() => boInc.silences.get("s1")?.status === "ok", 5000, "bo to see the silence");
    assert.is(boInc.silences.get("s1")!.matchers, "kind=anomaly channel=~SYM*");
    assert.is(boInc.silences.get("s1")!.by, "ana");
    assert.is(boInc.silences.get("v1"), undefined);
    assert.is(controls, 1);

    // The incident's next update (its watermark past the silence's time) is marked silenced.
    updates.length = 0;
    // Well ahead of the wall (a slow machine), within the incident's hold of 30 s.
    finding("SYM1", t0 + 15 * S);
    finding("SYM1", t0 + 17 * S);
    await waitFor(() => updates.some((u) => u.id === id && u.silenced), 5000, "a silenced update");

    // Ended by another editor: the next update is no longer silenced.
    boInc.endSilence("s1", "bo", Date.now());
    await waitFor(() => boInc.silences.get("s1")?.status === "ok", 5000, "the end's answer");
    assert.match(boInc.silences.get("s1")!.detail!, "0 silence(s)");
    updates.length = 0;
    finding("SYM1", t0 + 35 * S);
    finding("SYM1", t0 + 37 * S);
    await waitFor(
      () => updates.some((u) => u.id === id && !u.silenced),
      5000,
      "an unsilenced update",
    );

    // Acks: a held incident ok, an unknown one refused with the reason, and kept in the document.
    anaInc.ack({ incident: id, by: "ana", at_ms: Date.now(), note: "on it" });
    anaInc.ack({ incident: "anomaly-1-NOPE", by: "ana", at_ms: Date.now(), note: "" });
    await waitFor(() => anaInc.ackOf(id)?.status === "ok", 5000, "the ack's answer");
    await waitFor(() => anaInc.ackOf("anomaly-1-NOPE")?.status === "error", 5000, "the refusal");
    assert.match(anaInc.ackOf("anomaly-1-NOPE")!.detail!, 'Unknown incident "anomaly-1-NOPE"');
    await waitFor(() => boInc.ackOf(id)?.note === "on it", 5000, "bo to see the ack");
    // The stage (and the alert sender beside it) is told who acknowledged: the user's name.
    assert.equal(ackedBy, ["ana", "ana"]);

    // A client that skips the accessors: the server's schema refuses the write before it is
    // stored (the socket closed with 4422 naming the field and the value), so the bridge never
    // sees it and no other client does.
    const closes: Array<{ code: number; reason: string }> = [];
    ana.provider.on("connection-close", (ev) => {
      if (ev) closes.push({ code: ev.code, reason: ev.reason });
    });
    ana.doc.getMap("silences").set("bad", {
      id: "bad",
      matchers: "kind=anomaly chanel=SYM1",
      starts_ms: Date.now(),
      ends_ms: Date.now() + 60_000,
      by: "ana",
      reason: "r",
    });
    await waitFor(() => closes.length > 0, 5000, "the writer's socket to close");
    assert.is(closes[0]!.code, COLLAB_CLOSE_REFUSED);
    assert.match(closes[0]!.reason, "silences.bad.matchers");
    assert.not.ok(collab.server.room("ops")!.doc.getMap("silences").has("bad"), "nothing stored");
    // A later write from another editor reaches bo after anything the server sent bo before it
    // (one socket, in order): once it has come, a relayed "bad" would have too.
    const cy = await connectClient(url, "ops", editorToken);
    clients.push(cy);
    cy.sdoc.setStep({ id: "after", title: "after", status: "todo", assignee: "", due: 0 });
    await waitFor(() => bo.sdoc.workflow.has("after"), 5000, "the later write to reach bo");
    assert.not.ok(boInc.silences.has("bad"), "nothing relayed");
  } finally {
    for (const c of clients) c.destroy();
    stage.stop();
    await feed.close();
    await collab.close();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

test("a session loaded again tells a restarted stage its silences in force", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-incident-bridge-restart-");
  const dataDir = join(dir.path, "collab");
  const bus = await NatsBus.connect(nats.url);
  const clients: Array<{ destroy(): void }> = [];
  let stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab = await launchCollab({ dataDir, nats: nats.url, bridgeOptions: { timeoutMs: 3000 } });
  try {
    const token = await tokenFor(dataDir, "ops", "editor");
    const ana = await connectClient(collab.server.url, "ops", token);
    new SessionIncidents(ana.doc).addSilence({
      id: "s1",
      matchers: "kind=anomaly",
      ends_ms: Date.now() + 3600_000,
      by: "ana",
      reason: "r",
    }, Date.now());
    await waitFor(
      () => new SessionIncidents(ana.doc).silences.get("s1")?.status === "ok",
      5000,
      "the first stage's answer",
    );
    ana.destroy();
    // troupe up restarted: a new stage, which knows no silence, and the collab server again.
    stage.stop();
    await collab.close();
    stage = runIncidentStage(bus, { config: defaultIncidentConfig });
    const updates: Incident[] = [];
    bus.subscribe(
      `${SUBJECT_ROOT}.out.incident.*`,
      (m) => updates.push(decodeIncident(m.data).incident),
    );
    let controls = 0;
    bus.subscribe(incidentControlSubject(), () => controls++);
    await bus.flush();
    collab = await launchCollab({ dataDir, nats: nats.url, bridgeOptions: { timeoutMs: 3000 } });
    const bo = await connectClient(collab.server.url, "ops", token);
    clients.push(bo);
    await waitFor(() => controls === 1, 5000, "the loaded session to send its table");
    const t0 = Date.now() * 1000;
    let n = 0;
    for (const ts of [t0 + 10 * S, t0 + 13 * S, t0 + 16 * S]) {
      bus.publish(
        findingSubject("anomaly", "SYM1"),
        encodeEventEnvelope(
          { id: `in${n++}:anomaly:SYM1:0`, type: "anomaly", src: "h", ts },
          { channel: "SYM1", score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
        ),
      );
    }
    await waitFor(() => updates.length > 0, 5000, "an incident update");
    assert.ok(updates.every((u) => u.silenced), JSON.stringify(updates.map((u) => u.silenced)));
  } finally {
    for (const c of clients) c.destroy();
    stage.stop();
    await collab.close();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

test("with a host running and no incident stage, an ack and a silence are told at once that no stage runs", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-incident-bridge-nostage-");
  const dataDir = join(dir.path, "collab");
  const bus = await NatsBus.connect(nats.url);
  // A host subscribes to every actor's control (troupe.ctl.>) and answers none of another kind's.
  const host = new Host({
    hostId: "h-nostage",
    bus,
    actors: [statsActor],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  await bus.flush();
  // Far past the test's wait: only "no responders" answers in time.
  const collab = await launchCollab({
    dataDir,
    nats: nats.url,
    bridgeOptions: { timeoutMs: 120_000 },
  });
  const clients: Array<{ destroy(): void }> = [];
  try {
    const token = await tokenFor(dataDir, "ops", "editor");
    const ana = await connectClient(collab.server.url, "ops", token);
    clients.push(ana);
    const inc = new SessionIncidents(ana.doc);
    inc.ack({ incident: "anomaly-1-SYM1", by: "ana", at_ms: Date.now(), note: "" });
    inc.addSilence({
      id: "s1",
      matchers: "kind=anomaly",
      ends_ms: Date.now() + 3600_000,
      by: "ana",
      reason: "r",
    }, Date.now());
    const answered = () =>
      inc.acks.get("anomaly-1-SYM1")?.status === "error" &&
      inc.silences.get("s1")?.status === "error";
    await waitFor(answered, 20_000, "the bridge's answers");
    for (const detail of [inc.acks.get("anomaly-1-SYM1")?.detail, inc.silences.get("s1")?.detail]) {
      assert.match(detail ?? "", /^no incident stage runs: nothing subscribes to /, detail);
      assert.match(detail ?? "", incidentControlSubject());
    }
  } finally {
    for (const c of clients) c.destroy();
    await collab.close();
    await host.stop();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

if (run) test.run();
