/**
 * The incident stage's watermark and the feeds' progress marks, folded as the stage folds them
 * (the kernel pure, the marks as inputs): a lone finding is taken once the marks pass it by the
 * reorder bound; the least partition still taking inputs holds the watermark, an idle one does
 * not, nor a source whose marks stopped; every partition idle takes every finding held; a finding
 * far ahead of every feed is taken at the bound and its incident resolves; the marks are in the
 * stage's snapshot and journal, so a restarted stage folds them as the live one did.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeIncidentSnapshot,
  defaultIncidentConfig,
  encodeIncidentSnapshot,
  type IncidentConfig,
  IncidentStage,
  runIncidentStage,
  runJournaledIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { decodeDeadLetter, InProcessBus, MemoryJournal } from "../../../actors/runtime/mod.ts";
import {
  areaPattern,
  decodeIncident,
  encodeEnvelope,
  encodeProgressMark,
  findingSubject,
  type Incident,
  progressSubject,
} from "../../../protocol/mod.ts";
import { anomalyFinding } from "../../_support/findings.ts";
import { readIncidentFinding } from "../../../actors/incidents/mod.ts";

const test = suite("incident stage: progress");
const T = 1_800_000_000_000_000;
const S = 1_000_000;
const CONFIG: IncidentConfig = {
  ...defaultIncidentConfig,
  reorder_us: 2 * S,
  for_us: 0,
  hold_us: 2 * S,
  group_window_us: 3 * S,
  ahead_us_max: 5 * S,
  source_silent_us: 10 * S,
};

function stage(): { stage: IncidentStage; updates: Incident[] } {
  const updates: Incident[] = [];
  const s = new IncidentStage({
    config: CONFIG,
    publish: (_subject, data) => updates.push(decodeIncident(data).incident),
  });
  return { stage: s, updates };
}

const part = (partition: number, reached_us: number, idle = false) => ({
  partition,
  reached_us,
  idle,
});

function finding(s: IncidentStage, channel: string, ts: number): void {
  s.takeFinding(readIncidentFinding(anomalyFinding(channel, ts))!);
}

test("a lone finding is taken once the feeds' marks pass it by the reorder bound", () => {
  const { stage: s, updates } = stage();
  s.takeProgress("h1", T, { partitions: [part(0, T)], live: true });
  finding(s, "A", T + S);
  s.takeProgress("h1", T + 2 * S, { partitions: [part(0, T + 2 * S)], live: true });
  assert.is(updates.length, 0, "within the reorder bound: held");
  s.takeProgress("h1", T + 3 * S, { partitions: [part(0, T + 3 * S)], live: true });
  assert.is(updates.length, 1, "opened");
  assert.is(updates[0]!.state, "firing");
  s.takeProgress("h1", T + 9 * S, { partitions: [part(0, T + 9 * S)], live: true });
  assert.is(updates.at(-1)!.state, "resolved", "and resolved as the feeds go on");
});

test("the least partition still taking inputs holds the watermark; an idle one, or a silent source's, does not", () => {
  const { stage: s, updates } = stage();
  finding(s, "A", T + S);
  s.takeProgress("h1", T, { partitions: [part(0, T + 5 * S), part(1, T)], live: true });
  s.takeProgress("h2", T, { partitions: [part(2, T + 5 * S)], live: true });
  assert.is(updates.length, 0, "partition 1 has reached only T");
  s.takeProgress("h1", T + S, { partitions: [part(0, T + 5 * S), part(1, T, true)], live: true });
  assert.is(updates.length, 1, "partition 1 idle: held back no longer");

  const { stage: t, updates: tu } = stage();
  finding(t, "B", T + S);
  t.takeProgress("dead", T, { partitions: [part(0, T)], live: true });
  t.takeProgress("live", T + 5 * S, { partitions: [part(1, T + 5 * S)], live: true });
  assert.is(tu.length, 0, "the dead source still counts");
  t.takeProgress("live", T + 11 * S, { partitions: [part(1, T + 6 * S)], live: true });
  assert.is(tu.length, 1, "its marks stopped 10 s before the others': it counts no more");
});

test("every partition idle: every finding held is taken, without the reorder bound", () => {
  const { stage: s, updates } = stage();
  s.takeProgress("h1", T, { partitions: [part(0, T)], live: true });
  finding(s, "A", T + S);
  s.takeProgress("h1", T + 2 * S, { partitions: [part(0, T + S)], live: true });
  assert.is(updates.length, 0);
  s.takeProgress("h1", T + 12 * S, { partitions: [part(0, T + S, true)], live: true });
  assert.is(updates.length, 1, "the feed is quiet: all it had is in");
});

test("a finding far ahead of every feed is taken at the bound, moves event time no further, and its incident resolves", () => {
  const { stage: s, updates } = stage();
  const Y2100 = Date.parse("2100-01-01T00:00:00Z") * 1000;
  s.takeProgress("h1", T, { partitions: [part(0, T)], live: true });
  finding(s, "FUTURE", Y2100);
  for (let k = 1; k <= 20; k++) {
    s.takeProgress("h1", T + k * S, { partitions: [part(0, T + k * S)], live: true });
  }
  const future = updates.filter((u) => u.members[0]!.channel === "FUTURE");
  assert.is(
    future[0]!.first_us,
    T + CONFIG.ahead_us_max,
    "taken at the feeds' progress + ahead_us_max",
  );
  assert.is(future.at(-1)!.state, "resolved");
  finding(s, "LATER", T + 21 * S);
  for (let k = 22; k <= 30; k++) {
    s.takeProgress("h1", T + k * S, { partitions: [part(0, T + k * S)], live: true });
  }
  assert.is(updates.filter((u) => u.members[0]!.channel === "LATER").at(-1)!.state, "resolved");
  assert.ok(updates.every((u) => u.last_us < Y2100));

  // A synthetic feed's host (not live: its event time may run ahead of the clock) bounds nothing.
  const { stage: fast, updates: fu } = stage();
  fast.takeProgress("up", T, { partitions: [part(0, T + 3600 * S)], live: false });
  finding(fast, "AHEAD", T + 7200 * S);
  fast.takeProgress("up", T + S, { partitions: [part(0, T + 7300 * S)], live: false });
  assert.is(fu[0]!.first_us, T + 7200 * S, "its own time");
});

test("the marks are in the stage's snapshot, and journaled: a rebuilt stage folds them as the live one did", async () => {
  const { stage: s } = stage();
  s.takeProgress("h1", T, { partitions: [part(0, T, false), part(3, T - S, true)], live: true });
  const saved = decodeIncidentSnapshot(encodeIncidentSnapshot(s.saved()));
  assert.equal(saved.progress, [["h1", T, [[0, T, false], [3, T - S, true]], true]]);

  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const updates: string[] = [];
  bus.subscribe("troupe.out.incident.*", (m) => updates.push(decodeIncident(m.data).envelope.id));
  const live = await runJournaledIncidentStage(bus, { config: CONFIG, journal });
  const mark = (ts: number, n: number) =>
    bus.publish(
      progressSubject("h1"),
      encodeProgressMark({ id: `h1:progress:${n}`, src: "h1", ts }, {
        partitions: [part(0, ts)],
        live: true,
      }),
    );
  mark(T, 1);
  bus.publish(findingSubject("anomaly", "A"), anomalyFinding("A", T + S));
  mark(T + 4 * S, 2);
  await bus.flush();
  assert.is(live.stage.open().length, 1, "opened by the marks");
  await live.stop();
  const again = await runJournaledIncidentStage(new InProcessBus(), { config: CONFIG, journal });
  assert.equal(again.stage.list(), live.stage.list(), "the same incidents after the refold");
  mark(T + 9 * S, 3); // on the first bus: the stopped stage takes nothing
  await again.stop();
});

test("runIncidentStage() dead-letters a progress mark that does not decode, naming the field and value, and moves nothing on it", async () => {
  const bus = new InProcessBus();
  const letters: Uint8Array[] = [];
  bus.subscribe(areaPattern("dlq"), (m) => letters.push(m.data));
  const run = runIncidentStage(bus, { config: CONFIG });
  const bad = encodeEnvelope({
    id: "m1",
    src: "h1",
    ts: T,
    type: "progress",
    body: { p: [[0, "soon", 0]], live: 1 },
  });
  bus.publish(progressSubject("h1"), bad);
  await bus.flush();
  assert.is(letters.length, 1);
  const letter = decodeDeadLetter(letters[0]!);
  assert.is(letter.subject, progressSubject("h1"));
  assert.match(letter.error, 'field "body.p[0].reached_us" must be a time in µs, got "soon"');
  assert.is(run.stage.saved().progress.length, 0);
  run.stop();
});

test.run();
