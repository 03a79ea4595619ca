/**
 * The journaled incident stage: a stage rebuilt from its journal holds what the stage before it
 * held, publishes nothing while it refolds, and goes on where that one left off: the next update
 * of an open incident has the next number, as if no restart had happened. Against the in-process
 * bus and the memory journal, and the file journal with its snapshots.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import {
  decodeIncidentSnapshot,
  defaultIncidentConfig,
  encodeIncidentSnapshot,
  INCIDENT_JOURNAL_STREAM,
  IncidentSnapshotError,
  IncidentStage,
  runJournaledIncidentStage,
} from "../../../actors/incidents/mod.ts";
import {
  FileJournal,
  FileSnapshotStore,
  InProcessBus,
  MemoryJournal,
} from "../../../actors/runtime/mod.ts";
import {
  decodeIncident,
  decodeIncidentControlAnswer,
  encodeIncidentControl,
  encodeValue,
  findingSubject,
  incidentControlSubject,
  parseSilenceMatchers,
} from "../../../protocol/mod.ts";
import { tempDir } from "../../_support/nats.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("journaled incident stage");
const TS = 1_800_000_000_000_000;

/** Every incident update published on `bus`, as `id` (the envelope's: incident id and number). */
function updates(bus: InProcessBus): string[] {
  const ids: string[] = [];
  bus.subscribe("troupe.out.incident.>", (m) => ids.push(decodeIncident(m.data).envelope.id));
  return ids;
}

test("a stage rebuilt from its journal holds the same incidents and numbers on", async () => {
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const seen = updates(bus);
  const first = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  for (const [i, ch] of ["SYM001", "SYM002", "SYM003"].entries()) {
    bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, TS + i * 100_000));
  }
  // Per-sample outputs on the same subjects are not findings: journaled as published (as the
  // findings stream keeps them), never taken.
  bus.publish(findingSubject("anomaly", "SYM001"), new Uint8Array([0xc0]));
  bus.publish(findingSubject("anomaly", "OTHER"), anomalyFinding("OTHER", TS + 10_000_000));
  await bus.flush();
  const held = first.stage.list();
  assert.is(journal.lastPosition(INCIDENT_JOURNAL_STREAM), 5);
  await first.stop();
  const before = seen.length;
  const second = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  await bus.flush();
  assert.is(second.restored, 4);
  assert.is(seen.length, before, "the refold publishes nothing");
  assert.equal(second.stage.list(), held);
  const id = `anomaly-${TS}-SYM001`;
  const last = seen.filter((u) => u.startsWith(`${id}:`)).at(-1)!;
  bus.publish(findingSubject("anomaly", "SYM002"), anomalyFinding("SYM002", TS + 11_000_000));
  bus.publish(findingSubject("anomaly", "LATER"), anomalyFinding("LATER", TS + 20_000_000)); // releases it
  await bus.flush();
  const next = seen.slice(before).find((u) => u.startsWith(`${id}:`));
  assert.is(next, `${id}:${Number(last.split(":")[1]) + 1}`);
  await second.stop();
  await bus.close();
});

test("a session's silence table is journaled among the findings: the rebuilt stage marks the incident silenced", async () => {
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const options = { config: defaultIncidentConfig, journal };
  const id = `anomaly-${TS}-SYM001`;
  const first = await runJournaledIncidentStage(bus, options);
  for (const [i, ch] of ["SYM001", "SYM002", "SYM003"].entries()) {
    bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, TS + i * 100_000));
  }
  const table = encodeIncidentControl({ id: "c1", src: "collab", ts: TS + 1_000_000 }, {
    type: "silences",
    session: "main",
    silences: [{
      id: "s1",
      matchers: parseSilenceMatchers("channel=~SYM*"),
      starts_us: TS,
      ends_us: TS + 3600_000_000,
    }],
  });
  const answer = await bus.request(incidentControlSubject(), table, { timeout: 1000 });
  assert.ok(decodeIncidentControlAnswer(answer.data).ok);
  bus.publish(findingSubject("anomaly", "OTHER"), anomalyFinding("OTHER", TS + 10_000_000));
  await bus.flush();
  assert.is(first.stage.list().find((i) => i.id === id)?.silenced, true);
  assert.is(journal.lastPosition(INCIDENT_JOURNAL_STREAM), 5, "4 findings and the table");
  await first.stop();
  const second = await runJournaledIncidentStage(bus, options);
  assert.is(second.restored, 4);
  assert.equal(second.stage.list(), first.stage.list());
  assert.is(second.stage.list().find((i) => i.id === id)?.silenced, true);
  await second.stop();
  await bus.close();
});

test("a compacted journal: a stage restored from its snapshot and the tail holds and publishes what one fed everything does", async () => {
  const dir = tempDir("troupe-incident-compact-");
  const bus = new InProcessBus();
  const seen = updates(bus);
  const ref: string[] = [];
  const reference = new IncidentStage({
    config: defaultIncidentConfig,
    publish: (_, data) => ref.push(decodeIncident(data).envelope.id),
  });
  const open = async () => ({
    journal: await FileJournal.open(join(dir.path, "incidents"), {
      fsync: "never",
      segmentBytesMax: 4096,
    }),
    snapshots: await FileSnapshotStore.open(join(dir.path, "snapshots"), { fsync: false }),
  });
  // Bursts over 5 channels every 40 s, a lone finding between: incidents open, fire, resolve.
  let t = TS;
  const publish = (n: number) => {
    for (let i = 0; i < n; i++) {
      t += i % 6 === 5 ? 20_000_000 : 150_000;
      const ch = i % 6 === 5 ? `LONE${i % 4}` : `SYM00${i % 6}`;
      const data = anomalyFinding(ch, t);
      bus.publish(findingSubject("anomaly", ch), data);
      reference.take(data);
    }
  };
  try {
    let files = await open();
    const options = { config: defaultIncidentConfig, snapshotEveryFindings: 50 };
    const first = await runJournaledIncidentStage(bus, { ...options, ...files });
    publish(230);
    await bus.flush();
    await first.stop();
    assert.equal(first.stage.list(), reference.list());
    assert.equal(seen, ref);
    await files.journal.close();
    await files.snapshots.close();

    files = await open();
    let oldest = 0;
    for await (const r of files.journal.read(INCIDENT_JOURNAL_STREAM)) {
      oldest = r.pos;
      break;
    }
    assert.ok(oldest > 1, `the records behind the snapshot are gone (the oldest is ${oldest})`);
    const before = seen.length;
    const second = await runJournaledIncidentStage(bus, { ...options, ...files });
    // A snapshot every 50 findings, one at a time, and one more on the clean stop: it covers all
    // 230 however long a save took (under load one due while another ran was put off, and with
    // no finding after it, never taken: a restart refolded 180).
    assert.is(second.snapshotPos, 230);
    assert.ok(oldest <= second.snapshotPos + 1, `${oldest} <= ${second.snapshotPos} + 1`);
    assert.is(second.restored, 230 - second.snapshotPos);
    assert.equal(second.stage.list(), reference.list());
    assert.equal(second.stage.counts(), reference.counts());
    assert.is(seen.length, before, "the restore publishes nothing");
    publish(100); // numbered on as the reference numbers them
    await bus.flush();
    assert.equal(seen, ref);
    assert.equal(second.stage.list(), reference.list());
    await second.stop();
    await files.journal.close();
    await files.snapshots.close();
  } finally {
    await bus.close();
    dir.remove();
  }
});

test("a finding taken again (an actor's, after its restart) changes nothing, nor across a restart", async () => {
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const seen = updates(bus);
  const first = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  const a = anomalyFinding("SYM001", TS), b = anomalyFinding("SYM002", TS + 100_000);
  // A later finding moves the watermark past the first two.
  const c = anomalyFinding("OTHER", TS + 10_000_000);
  for (const f of [a, b, a, c]) bus.publish(findingSubject("anomaly", "x"), f);
  await bus.flush();
  // Journaled as published, as the findings stream keeps them; taken once.
  assert.is(journal.lastPosition(INCIDENT_JOURNAL_STREAM), 4);
  const before = first.stage.list();
  assert.is(before.length, 1);
  assert.is(before[0]!.findings, 2, JSON.stringify(before));
  const published = seen.length;
  await first.stop();
  const second = await runJournaledIncidentStage(bus, { config: defaultIncidentConfig, journal });
  for (const f of [b, a, c]) bus.publish(findingSubject("anomaly", "x"), f);
  await bus.flush();
  assert.equal(second.stage.list(), before);
  assert.is(seen.length, published, "no update of the findings again");
  assert.is(journal.lastPosition(INCIDENT_JOURNAL_STREAM), 7);
  await second.stop();
});

test("a stage's snapshot round-trips, and a damaged one is refused naming the field", () => {
  const stage = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
  // Two tables of a session: the first in force by the last finding, the second held for later.
  for (const at of [TS + 1_000_000, TS + 60_000_000]) {
    stage.control(encodeIncidentControl({ id: `c${at}`, src: "collab", ts: at }, {
      type: "silences",
      session: "main",
      silences: [{
        id: `s${at}`,
        matchers: parseSilenceMatchers("kind=anomaly channel=~SYM001"),
        starts_us: at,
        ends_us: at + 600_000_000,
      }],
    }));
  }
  for (const [i, ch] of ["SYM001", "SYM002", "SYM001", "LATE"].entries()) {
    stage.take(anomalyFinding(ch, TS + i * 3_000_000));
  }
  const saved = stage.saved();
  assert.ok(saved.open.length > 0 && saved.held.length > 0, JSON.stringify(saved));
  assert.is(saved.recent_ids.length, 4, "the findings' ids");
  assert.is(saved.silences.tables.length, 1, "the table in force");
  assert.ok(saved.silences.held.some((c) => c.session === "main"), "the table held for later");
  assert.equal(decodeIncidentSnapshot(encodeIncidentSnapshot(saved)), saved);
  const other = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
  other.restore(decodeIncidentSnapshot(encodeIncidentSnapshot(saved)));
  assert.equal(other.saved(), saved);
  assert.equal(other.list(), stage.list());
  // A version 2 snapshot (before the silences were kept) is restored, with no silences, and one
  // of version 3 (before the findings' ids were) with no ids.
  const { silences: _, recent_ids: __, ...v2 } = saved;
  assert.equal(decodeIncidentSnapshot(encodeValue({ ...v2, v: 2 })), {
    ...saved,
    recent_ids: [],
    silences: { tables: [], held: [] },
  });
  const { recent_ids: ___, ...v3 } = saved;
  assert.equal(decodeIncidentSnapshot(encodeValue({ ...v3, v: 3 })), { ...saved, recent_ids: [] });
  const bad = [
    [{ ...saved, held: 5 }, '"held" must be an array, got 5'],
    [{ ...saved, recent_ids: ["a", 7] }, '"recent_ids[1]" must be a string, got 7'],
    [{ ...saved, open: [{ ...saved.open[0], value: "resolved" }] }, '"open[0].value"'],
    [{ ...saved, resolved: [{ id: 1 }] }, "body.state"],
    [{ ...saved, silences: undefined }, '"silences" must be a map'],
    [
      { ...saved, silences: { tables: [["main", [{ matchers: "colour=red" }]]], held: [] } },
      "silences.tables.main[0].matchers",
    ],
  ] as const;
  for (const [value, text] of bad) {
    try {
      decodeIncidentSnapshot(encodeIncidentSnapshot(value as never));
      assert.unreachable(text);
    } catch (err) {
      assert.instance(err, IncidentSnapshotError, String(err));
      assert.match((err as Error).message, text);
    }
  }
});

test.run();
