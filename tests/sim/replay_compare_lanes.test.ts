/**
 * `replay --verify` compares a subject's outputs per lane: an instance's columns (ids ending in
 * `:c`) and its machine's outputs. A leased host publishes the columns at once and its findings
 * once the findings stream has them, so a burst of inputs records later columns before an earlier
 * finding on one subject; each lane is still compared strictly, in order.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import {
  type ActorDefinition,
  decodeValue,
  encodeColumns,
  encodeEnvelope,
  encodeValue,
  type Envelope,
  feedSubject,
} from "../../protocol/mod.ts";
import type { StatsConfig, StatsResult, StatsState } from "../../actors/stats/mod.ts";
import { SystemClock } from "../../sim/clock.ts";
import { createMetricsFeed } from "../../sim/feeds/mod.ts";
import {
  mismatchPlace,
  type RecordedMessage,
  RecordingReader,
  RecordingWriter,
  replay,
} from "../../sim/recording/mod.ts";
import { OutputComparator } from "../../sim/recording/_replay_compare.ts";
import { outputLane } from "../../sim/recording/_output_lane.ts";
import { type InputSink, ReplayReading } from "../../sim/recording/_replay_reading.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { publishFrames, recordLiveSession } from "./_live_session.ts";

const test = suite("replay_compare_lanes");
const dir = tempDir("troupe-lanes-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `l${++n}.rec`);

/** `stats` with per-sample columns (its samples as they came): both lanes on one subject. */
const lanesActor: ActorDefinition<StatsState, StatsConfig, StatsResult> = {
  ...statsActor,
  kind: "lanes",
  columns: (_result, frame) => ({
    channel: frame.channel,
    seq0: frame.seq0,
    t: frame.t,
    columns: { v: frame.v },
  }),
};
const registry = { lanes: lanesActor };
const SUBJECT = "troupe.out.lanes.api-cpu";

const idOf = (m: { data: Uint8Array }) => (decodeValue(m.data) as Envelope).id;
const isOut = (m: RecordedMessage) => m.subject.startsWith("troupe.out.");
const isMachine = (m: RecordedMessage) => isOut(m) && !idOf(m).endsWith(":c");

/** Writes `records` to a recording with the header of `from`'s. */
async function write(from: string, records: readonly RecordedMessage[]): Promise<string> {
  const reader = await RecordingReader.open(from);
  const path = file();
  const w = RecordingWriter.create(path, { ...reader.header, source: reader.header.source });
  for (const m of records) w.append(m.subject, m.tUs, m.data, m.headers);
  w.close();
  return path;
}

/**
 * The records of `path` with each machine output held back until `later` more columns of its
 * subject are recorded (a burst whose findings wait for the stream's acknowledgement), each
 * lane in its order.
 */
async function overtaken(path: string, later: number): Promise<RecordedMessage[]> {
  const out: RecordedMessage[] = [];
  const held = new Map<string, { m: RecordedMessage; left: number }[]>();
  for (const m of await readRecords(path)) {
    if (isMachine(m)) {
      const q = held.get(m.subject) ?? [];
      held.set(m.subject, q);
      q.push({ m, left: later });
      continue;
    }
    out.push(m);
    const q = isOut(m) ? held.get(m.subject) : undefined;
    if (!q) continue;
    for (const h of q) h.left--;
    while (q.length > 0 && q[0]!.left <= 0) out.push({ ...q.shift()!.m, tUs: m.tUs });
  }
  for (const q of held.values()) out.push(...q.map((h) => h.m));
  return out;
}

let session: string;
let burst: RecordedMessage[];
test.before(async () => {
  session = file();
  const live = { actors: [lanesActor], config: { lanes: { every_samples: 30 } } };
  await recordLiveSession(session, live, async (bus) => {
    const feed = createMetricsFeed({ series: 3, seed: 9, batch: 10 });
    for (let step = 0; step < 30; step++) {
      publishFrames(bus, feed.next(), { domain: "metrics", src: "t" });
      await bus.flush();
    }
  });
  burst = await overtaken(session, 2);
});

test("a recording whose columns overtook an earlier finding on its subject verifies clean", async () => {
  const onSubject = burst.filter((m) => m.subject === SUBJECT).map(idOf);
  const machine = onSubject.filter((id) => !id.endsWith(":c"));
  assert.ok(machine.length >= 5, `${machine.length} machine outputs on ${SUBJECT}`);
  // The first finding comes after the columns of the two inputs after its own.
  const first = onSubject.indexOf(machine[0]!);
  const cause = machine[0]!.split(":lanes:")[0]!;
  assert.is(onSubject[first - 3], `${cause}:lanes:api-cpu:c`);
  const outputs = burst.filter(isOut).length;
  const r = await replay(await write(session, burst), { verify: true, registry, threads: 1 });
  assert.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.is(r.verify!.equal, outputs);
  assert.is(r.verify!.different + r.verify!.missing + r.verify!.extra, 0);
});

test("a changed value in either lane is reported, naming the subject, the lane and its index", async () => {
  const machine = burst.filter((m) => m.subject === SUBJECT && isMachine(m));
  const target = machine[2]!;
  const changed = burst.map((m) => {
    if (m !== target) return m;
    const env = decodeValue(m.data) as Envelope<Record<string, number>>;
    return { ...m, data: encodeEnvelope({ ...env, body: { ...env.body, mean: 1e9 } }) };
  });
  const v = (await replay(await write(session, changed), { verify: true, registry })).verify!;
  assert.not.ok(v.ok);
  assert.is(v.different, 1);
  assert.is(v.missing + v.extra, 0);
  assert.is(v.first!.kind, "different");
  assert.is(v.first!.subject, SUBJECT);
  assert.is(v.first!.lane, "machine");
  assert.is(v.first!.index, 2);
  assert.is(v.first!.recordedId, idOf(target));
  assert.match(v.first!.detail, /^body\.mean: recorded 1000000000, replayed /);
  assert.is(mismatchPlace(v.first!), `machine output 2 on ${SUBJECT}`);

  const columns = burst.filter((m) => m.subject === SUBJECT && !isMachine(m));
  const col = columns[4]!;
  const bent = burst.map((m) => {
    if (m !== col) return m;
    const data = m.data.slice();
    data[data.length - 1] = data[data.length - 1]! ^ 0x01; // the last value's last byte
    return { ...m, data };
  });
  const w = (await replay(await write(session, bent), { verify: true, registry })).verify!;
  assert.is(w.different, 1);
  assert.is(w.first!.subject, SUBJECT);
  assert.is(w.first!.lane, "columns");
  assert.is(w.first!.index, 4);
  assert.match(w.first!.detail, /^body\.columns\.v\[\d+\] \(8-byte values\): recorded /);
  assert.is(mismatchPlace(w.first!), `column output 4 on ${SUBJECT}`);
});

test("a machine output missing from the recording, or one the replay lacks, is reported in its lane", async () => {
  const machine = burst.filter((m) => m.subject === SUBJECT && isMachine(m));
  const last = machine[machine.length - 1]!;
  const lacking = burst.filter((m) => m !== last);
  const x = (await replay(await write(session, lacking), { verify: true, registry })).verify!;
  assert.not.ok(x.ok);
  assert.equal([x.extra, x.missing, x.different], [1, 0, 0]);
  assert.is(x.first!.kind, "extra");
  assert.is(x.first!.subject, SUBJECT);
  assert.is(x.first!.lane, "machine");
  assert.is(x.first!.index, machine.length - 1);
  assert.is(x.first!.replayedId, idOf(last));
  assert.match(x.first!.detail, /^the replay produced 1 machine output\(s\) on this subject/);

  // A recorded finding the replay does not make, at the end of its lane.
  const env = decodeValue(last.data) as Envelope;
  const more = { ...last, tUs: burst[burst.length - 1]!.tUs };
  more.data = encodeEnvelope({ ...env, id: `${env.id}x` });
  const m = (await replay(await write(session, [...burst, more]), { verify: true, registry }))
    .verify!;
  assert.not.ok(m.ok);
  assert.equal([m.missing, m.extra, m.different], [1, 0, 0]);
  assert.is(m.first!.kind, "missing");
  assert.is(m.first!.subject, SUBJECT);
  assert.is(m.first!.lane, "machine");
  assert.is(m.first!.index, machine.length);
  assert.is(m.first!.recordedId, `${env.id}x`);
  assert.match(m.first!.detail, /^the recording has 1 more machine output\(s\) on this subject/);
});

/** The columns output of instance `(lanes, key)` on `input`. */
function column(input: string, key = "k"): Uint8Array {
  const t = new Float64Array([1, 2]);
  const frame = { channel: key, seq0: 0, t, columns: { v: new Float64Array([3, 4]) } };
  return encodeColumns(frame, { id: `${input}:lanes:${key}:c`, src: "lanes/k", cause: input });
}

/** Event `n` of instance `(lanes, k)` on `input`, a machine output. */
function event(input: string, n = 0, mean = 1): Uint8Array {
  return encodeEnvelope({
    id: `${input}:lanes:k:${n}`,
    type: "stats",
    src: "lanes/k",
    ts: 5,
    cause: input,
    body: { mean },
  });
}

test("outputLane() reads the lane from the id, in place or decoded", () => {
  assert.is(outputLane(column("in-1")), "columns");
  assert.is(outputLane(event("in-1")), "machine");
  // Another layout (id before v), and a long id (str 8): decoded, or read past its header.
  assert.is(outputLane(encodeValue({ id: "in-1:lanes:k:c", v: 1 })), "columns");
  assert.is(outputLane(encodeValue({ id: "in-1:lanes:k:0", v: 1 })), "machine");
  assert.is(outputLane(column("x".repeat(300))), "columns");
  assert.is(outputLane(event("x".repeat(300))), "machine");
  assert.is(outputLane(encodeValue({ v: 1, id: 7 })), "machine");
  assert.is(outputLane(new Uint8Array([0xc1])), "machine");
});

test("OutputComparator counts per lane; a subject of one lane reads as before", () => {
  const cmp = new OutputComparator();
  const s = "troupe.out.lanes.k";
  // Recorded: c1 c2 e1 c3 e2' (e2 changed) e3; replayed: c1 e1 c2 e2 c3 e3 c4.
  [column("i1"), column("i2"), event("i1"), column("i3"), event("i2", 0, 9), event("i3")]
    .forEach((d, i) => cmp.recorded(s, d, i));
  [column("i1"), event("i1"), column("i2"), event("i2"), column("i3"), event("i3"), column("i4")]
    .forEach((d) => cmp.replayed(s, d));
  const v = cmp.finish(false);
  assert.equal([v.equal, v.different, v.missing, v.extra], [5, 1, 0, 1]);
  assert.is(v.first!.lane, "machine");
  assert.is(v.first!.index, 1);
  assert.is(v.first!.detail, "body.mean: recorded 9, replayed 1");

  const one = new OutputComparator();
  const e = "troupe.out.lanes.e";
  [event("i1"), event("i2"), event("i3")].forEach((d, i) => one.recorded(e, d, i));
  one.replayed(e, event("i1"));
  const w = one.finish(false);
  assert.equal([w.equal, w.missing, w.extra], [1, 2, 0]);
  assert.equal(w.first, {
    kind: "missing",
    subject: e,
    index: 1,
    recordedId: "i2:lanes:k:0",
    replayedId: undefined,
    detail: "the recording has 2 more output(s) on this subject than the replay produced",
  });
  assert.is(mismatchPlace(w.first!), `output 1 on ${e}`);
});

/** A sink that takes the inputs and applies none: the test hands the replay's outputs itself. */
const noSink: InputSink = {
  publish() {},
  breathe: () => Promise.resolve(),
  flush: () => Promise.resolve(),
};

/**
 * Reads a recording of `records` (subject, bytes) with the start state holding input `in-0` of
 * instance `lanes/k`, handing the comparator `replayed` as the replay's outputs.
 */
async function readWithStart(
  records: readonly [string, Uint8Array][],
  replayed: readonly Uint8Array[],
): Promise<ReplayReading> {
  const path = file();
  const w = RecordingWriter.create(path, { source: "test" });
  records.forEach(([subject, data], i) => w.append(subject, 1_000 + i, data));
  w.close();
  const reading = new ReplayReading(await RecordingReader.open(path), {
    replayed: new Set(["lanes"]),
    verify: true,
    fromUs: 0,
    toUs: Number.MAX_SAFE_INTEGER,
    speed: Infinity,
    clock: new SystemClock(),
    progressEveryS: 60,
    held: new Map([["lanes/k", new Set(["in-0"])]]),
  });
  for (const d of replayed) reading.onOutput("troupe.out.lanes.k", d);
  await reading.read(noSink);
  return reading;
}

test("outputs of an input the start state holds are skipped per lane, until the lane's first replayed one", async () => {
  const out = "troupe.out.lanes.k";
  const input = (id: string) => encodeEnvelope({ id, type: "x", src: "t", ts: 1, body: {} });
  const feed = feedSubject("metrics", "k");
  // The columns of in-1 were recorded before the finding of in-0, which the start state holds.
  const r = await readWithStart(
    [[feed, input("in-1")], [out, column("in-1")], [out, event("in-0")], [out, event("in-1")]],
    [column("in-1"), event("in-1")],
  );
  assert.is(r.beforeStart, 1);
  assert.is(r.recordedOutputs, 2);
  const v = r.cmp.finish(false);
  assert.ok(v.ok, JSON.stringify(v));
  assert.is(v.equal, 2);

  // In its own lane, an output of a held input after one of a replayed input is compared.
  const late = await readWithStart(
    [[feed, input("in-1")], [out, event("in-1")], [out, event("in-0", 1)]],
    [event("in-1")],
  );
  assert.is(late.beforeStart, 0);
  const w = late.cmp.finish(false);
  assert.equal([w.equal, w.missing, w.extra], [1, 1, 0]);
  assert.is(w.first!.subject, out);
  assert.is(w.first!.recordedId, "in-0:lanes:k:1");
});

test.run();
