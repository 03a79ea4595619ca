/**
 * The incident stage (every form runs it) against a real nats-server with JetStream: it reads its
 * findings from the findings stream, so a stage started after another stopped (or died) takes the
 * findings published in between, refolds quietly up to its holder's published mark, publishes
 * the updates of the findings after it (the gap's, as updates of their own), and starts from the
 * snapshot a clean stop saved. A finding whose body does not decode is dead-lettered once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultIncidentConfig,
  legacyIncidentConfig,
  runDurableIncidentStage,
} from "../../../actors/incidents/mod.ts";
import {
  decodeDeadLetter,
  MemorySnapshotStore,
  NatsBus,
  openFindingsStream,
} from "../../../actors/runtime/mod.ts";
import {
  areaPattern,
  decodeIncident,
  decodeIncidentControlAnswer,
  encodeEnvelope,
  encodeIncidentControl,
  encodeProgressMark,
  findingSubject,
  incidentControlSubject,
  incidentSubject,
  parseSilenceMatchers,
  progressSubject,
} from "../../../protocol/mod.ts";
import { haveNatsServer, startTestNats } from "../../_support/nats.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("leased incident stage");
const TS = 1_800_000_000_000_000;

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > 10_000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (haveNatsServer("the leased incident stage against nats-server")) {
  test("runDurableIncidentStage() takes what was published while none ran, refolds quietly, restarts from its stop's snapshot, dead-letters a bad body once", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      const source = await openFindingsStream(bus.nc);
      const snapshots = new MemorySnapshotStore();
      const updates: Array<{ id: string; findings: number }> = [];
      bus.subscribe(
        incidentSubject("anomaly"),
        (m) => updates.push(decodeIncident(m.data).incident),
      );
      const letters: Uint8Array[] = [];
      bus.subscribe(areaPattern("dlq"), (m) => letters.push(m.data));
      const publish = (ch: string, ts: number) =>
        bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, ts));
      // The rule before issue 29 (a member's finding joins its incident whatever the window): this
      // fixture's incidents are its (OTHER, LATER and LAST within a minute would join the crash).
      const options = { config: legacyIncidentConfig, source, snapshots };
      const crash = `anomaly-${TS}-SYM1`;
      const findingsOf = (s: { stage: { list(): Array<{ id: string; findings: number }> } }) =>
        s.stage.list().find((i) => i.id === crash)?.findings;

      const first = await runDurableIncidentStage(bus, options);
      assert.is(first.restored, 0);
      for (const [i, ch] of ["SYM1", "SYM2", "SYM3"].entries()) publish(ch, TS + i * 100_000);
      const bad = encodeEnvelope({
        id: "bad",
        type: "anomaly",
        src: "t",
        ts: TS + 300_000,
        body: { channel: "SYM4", score: "high" },
      });
      bus.publish(findingSubject("anomaly", "SYM4"), bad);
      publish("OTHER", TS + 10_000_000);
      await until("the first stage's findings", () => findingsOf(first) === 3);
      await until("the dead letter", () => letters.length === 1);
      const letter = decodeDeadLetter(letters[0]!);
      assert.is(letter.subject, findingSubject("anomaly", "SYM4"));
      assert.is(letter.field, "score");
      assert.is(letter.actor, "incidents");
      // Its updates are out up to the stream's 5th record; then its host dies: nothing saved.
      assert.is(await first.marked(), 5);
      await first.abandon();
      publish("SYM2", TS + 11_000_000);
      publish("LATER", TS + 16_000_000);
      await bus.flush();
      await until("the stream's 7 findings", async () => (await source.lastSeq()) === 7);
      const seen = updates.length;

      const second = await runDurableIncidentStage(bus, options);
      assert.is(second.snapshotPos, 0);
      assert.is(second.restored, 6, "every good finding of the stream, the gap's included");
      assert.is(second.republished, 2, "the gap's two findings");
      assert.is(findingsOf(second), 4, "the finding published while none ran joined");
      await bus.flush();
      // The gap's finding goes out as an update of its own; nothing before the mark again.
      await until("the gap's update", () => updates.length > seen);
      const gap = updates.slice(seen).filter((u) => u.id === crash);
      assert.equal(gap.map((u) => u.findings), [4], JSON.stringify(updates.slice(seen)));
      assert.is(letters.length, 1, "the refold dead-letters nothing again");
      const afterGap = updates.length;
      publish("SYM3", TS + 12_000_000);
      publish("LAST", TS + 20_000_000);
      await until("the later finding", () => findingsOf(second) === 5);
      await until("its update", () => updates.length > afterGap);
      const listed = second.stage.list();
      await second.stop(); // saves a snapshot at the stream's last finding

      const third = await runDurableIncidentStage(bus, options);
      assert.is(third.snapshotPos, 9);
      assert.is(third.restored, 0);
      assert.is(third.republished, 0);
      assert.equal(third.stage.list(), listed);
      await third.stop();
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });

  test("runDurableIncidentStage() journals a session's silence table in the stream: a stage that takes over, or restores its snapshot, marks the incident silenced", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      const source = await openFindingsStream(bus.nc);
      const snapshots = new MemorySnapshotStore();
      const publish = (ch: string, ts: number) =>
        bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, ts));
      const options = { config: defaultIncidentConfig, source, snapshots };
      const crash = `anomaly-${TS}-SYM1`;
      const incidentOf = (s: { stage: { list(): Array<{ id: string; silenced: boolean }> } }) =>
        s.stage.list().find((i) => i.id === crash);

      const first = await runDurableIncidentStage(bus, options);
      for (const [i, ch] of ["SYM1", "SYM2", "SYM3"].entries()) publish(ch, TS + i * 100_000);
      publish("SYM8", TS + 10_000_000); // within the window: the crash's
      await until("the crash incident", () => incidentOf(first) !== undefined);
      const silence = {
        id: "s1",
        matchers: parseSilenceMatchers("kind=anomaly channel=~SYM*"),
        starts_us: TS,
        ends_us: TS + 3600_000_000,
      };
      const ctl = encodeIncidentControl({ id: "ctl-1", src: "collab", ts: TS + 10_000_000 }, {
        type: "silences",
        session: "main",
        silences: [silence],
      });
      const reply = await bus.request(incidentControlSubject(), ctl, { timeout: 5000 });
      assert.ok(decodeIncidentControlAnswer(reply.data).ok);
      publish("SYM9", TS + 16_000_000); // event time past the table's
      await until("the incident silenced", () => incidentOf(first)?.silenced === true);
      // Its host dies: nothing saved. The next holder refolds the stream, the table in it.
      await first.abandon();
      const second = await runDurableIncidentStage(bus, options);
      assert.is(second.snapshotPos, 0);
      assert.is(incidentOf(second)?.silenced, true, "silenced from the stream");
      await second.stop(); // saves a snapshot, the table in it

      const third = await runDurableIncidentStage(bus, options);
      assert.ok(third.snapshotPos > 0);
      assert.is(third.restored, 0);
      assert.is(incidentOf(third)?.silenced, true, "silenced from the snapshot");
      // A later finding of a member: its update is still silenced (the table is in force).
      const updates: Array<{ id: string; silenced: boolean }> = [];
      bus.subscribe(
        incidentSubject("anomaly"),
        (m) => updates.push(decodeIncident(m.data).incident),
      );
      publish("SYM2", TS + 17_000_000);
      publish("SYM7", TS + 25_000_000);
      await until("the member's update", () => updates.some((u) => u.id === crash));
      assert.ok(updates.filter((u) => u.id === crash).every((u) => u.silenced));
      await third.stop();
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });

  test("runDurableIncidentStage() takes the hosts' progress marks from the stream: a lone finding opens its incident, and a stage that takes over holds it", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      const source = await openFindingsStream(bus.nc);
      const snapshots = new MemorySnapshotStore();
      const config = { ...defaultIncidentConfig, for_us: 0, reorder_us: 2_000_000 };
      const opened: string[] = [];
      bus.subscribe(
        incidentSubject("anomaly"),
        (m) => opened.push(decodeIncident(m.data).incident.id),
      );
      let n = 0;
      const mark = (reached: number) =>
        bus.publish(
          progressSubject("h1"),
          encodeProgressMark({ id: `h1:progress:${++n}`, src: "h1", ts: reached }, {
            partitions: [{ partition: 0, reached_us: reached, idle: false }],
            live: true,
          }),
        );
      const first = await runDurableIncidentStage(bus, { config, source, snapshots });
      mark(TS);
      bus.publish(findingSubject("anomaly", "LONE"), anomalyFinding("LONE", TS + 500_000));
      mark(TS + 1_000_000);
      await bus.flush();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(opened, [], "within the reorder bound: held");
      mark(TS + 3_000_000);
      await until("the lone finding's incident", () => opened.length === 1);
      assert.is(opened[0], `anomaly-${TS + 500_000}-LONE`);
      await first.abandon();
      // A stage that takes over refolds the marks with the finding from the stream.
      const second = await runDurableIncidentStage(bus, { config, source, snapshots });
      assert.equal(second.stage.open().map((i) => i.id), [`anomaly-${TS + 500_000}-LONE`]);
      await second.stop();
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });
  test("runDurableIncidentStage() fresh takes only what is published from its start: a stage of a host whose journal is in memory refolds nothing", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      const source = await openFindingsStream(bus.nc);
      const snapshots = new MemorySnapshotStore();
      const options = { config: legacyIncidentConfig, source, snapshots };
      const publish = (ch: string, ts: number) =>
        bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, ts));
      publish("OLD", TS);
      publish("LATER", TS + 600_000_000);
      await bus.flush();
      await until("the stream holds both", async () => (await source.lastSeq()) === 2);
      const fresh = await runDurableIncidentStage(bus, { ...options, fresh: true });
      assert.is(fresh.restored, 0);
      assert.is(fresh.snapshotPos, 2, "it starts at the stream's end");
      assert.equal(fresh.stage.list(), []);
      publish("NEW", TS + 700_000_000);
      publish("NEWER", TS + 800_000_000);
      await until("the new finding's incident", () => fresh.stage.list().length === 1);
      assert.equal(fresh.stage.list().map((i) => i.id), [`anomaly-${TS + 700_000_000}-NEW`]);
      await fresh.stop();
      // Without it, the same stream refolds from the start.
      const whole = await runDurableIncidentStage(bus, {
        ...options,
        snapshots: new MemorySnapshotStore(),
      });
      assert.is(whole.restored, 4);
      await whole.stop();
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });
}

test.run();
