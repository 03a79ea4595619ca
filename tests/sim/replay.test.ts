import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  ctlSubject,
  decodeValue,
  encodeEnvelope,
  type Envelope,
  findingOutputSubject,
} from "../../protocol/mod.ts";
import { VirtualClock } from "../../sim/clock.ts";
import { createMarketFeed, createMetricsFeed } from "../../sim/feeds/mod.ts";
import {
  type RecordedMessage,
  type RecordingHeaderInit,
  RecordingReader,
  RecordingWriter,
  replay,
  ReplayError,
} from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { publishFrames, recordLiveSession } from "./_live_session.ts";

const test = suite("replay");
const dir = tempDir("troupe-replay-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `s${++n}.rec`);

const START_US = 1_704_067_200_000_000;
const CONFIG = { stats: { every_samples: 30 } };

/**
 * A live session, recorded: a stats host over 3 metric channels, 40 steps of 10-sample frames,
 * and a control message after step 20 that changes every_samples to 7.
 */
function recordSession(
  path: string,
  options: { header?: Partial<RecordingHeaderInit> } = {},
) {
  const live = { actors: [statsActor], config: CONFIG, header: { seed: 5, ...options.header } };
  return recordLiveSession(path, live, async (bus) => {
    const feed = createMetricsFeed({ series: 3, seed: 5, batch: 10 });
    for (let step = 0; step < 40; step++) {
      publishFrames(bus, feed.next(), { domain: "metrics", src: "t" });
      if (step === 20) {
        bus.publish(
          ctlSubject("stats"),
          encodeEnvelope({
            id: "ctl-1",
            type: "config",
            src: "t",
            ts: 0,
            body: { every_samples: 7 },
          }),
        );
      }
      await bus.flush();
    }
  });
}

/** Rewrites a recording through `edit` (return undefined to drop a record). */
async function rewrite(
  from: string,
  to: string,
  edit: (m: RecordedMessage, i: number) => Uint8Array | undefined,
) {
  const reader = await RecordingReader.open(from);
  const records = await readRecords(from);
  const w = RecordingWriter.create(to, { ...reader.header, source: reader.header.source });
  records.forEach((m, i) => {
    const data = edit(m, i);
    if (data) w.append(m.subject, m.tUs, data, m.headers);
  });
  w.close();
}

let session: string;
test.before(async () => {
  session = file();
  await recordSession(session);
});

test("replay --verify of a recorded session finds every output equal, control messages included", async () => {
  const recorded = (await readRecords(session)).filter((m) => m.subject.startsWith("troupe.out."));
  assert.ok(recorded.length > 40, `${recorded.length} recorded outputs`);
  const r = await replay(session, { verify: true });
  assert.equal(r.kinds, ["stats"]);
  assert.is(r.inputs, 121);
  assert.is(r.frames, 120);
  assert.is(r.ctl, 1);
  assert.is(r.samples, 1200);
  assert.is(r.outputs, recorded.length);
  assert.is(r.recordedOutputs, recorded.length);
  assert.is(r.cut, undefined);
  assert.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.is(r.verify!.equal, recorded.length);
  assert.is(r.verify!.first, undefined);
});

test("replaying the same recording twice gives byte-identical outputs, equal to the recorded ones", async () => {
  const runs: Array<Array<[string, string]>> = [];
  for (let i = 0; i < 2; i++) {
    const outs: Array<[string, string]> = [];
    await replay(session, {
      onOutput: (subject, data) => outs.push([subject, Buffer.from(data).toString("base64")]),
    });
    runs.push(outs);
  }
  assert.ok(runs[0]!.length > 0);
  assert.equal(runs[0], runs[1]);
  const recorded = (await readRecords(session))
    .filter((m) => m.subject.startsWith("troupe.out."))
    .map((m) => [m.subject, Buffer.from(m.data).toString("base64")]);
  assert.equal(runs[0], recorded);
});

test("every registered kind replays a market session byte for byte, twice the same", async () => {
  const path = file();
  const config = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, {}]));
  const live = { actors: Object.values(ACTOR_KINDS), config };
  const summary = await recordLiveSession(path, live, async (bus) => {
    const feed = createMarketFeed({ symbols: 6, seed: 11, batch: 25, volume: false });
    for (let step = 0; step < 40; step++) {
      publishFrames(bus, feed.next(), { domain: "market", src: "m" });
      await bus.flush();
    }
  });
  // The actors' outputs: their own subjects' and their findings' (keyed as their outputs).
  const outputs = (await readRecords(path))
    .map((m) => m.subject.startsWith("troupe.out.") ? m.subject : findingOutputSubject(m.subject))
    .filter((s) => s !== undefined);
  const kindsWithOutputs = new Set(outputs.map((s) => s.split(".")[2]));
  assert.ok(
    outputs.length > (summary.byArea.out ?? 0),
    "findings were recorded on their own subjects",
  );
  assert.ok(kindsWithOutputs.size >= 2, `outputs of ${[...kindsWithOutputs].join(", ")}`);
  const outs: string[][] = [];
  for (let i = 0; i < 2; i++) {
    const got: string[] = [];
    const r = await replay(path, {
      verify: true,
      onOutput: (subject, data) => got.push(subject + Buffer.from(data).toString("base64")),
    });
    assert.equal(r.kinds, Object.keys(ACTOR_KINDS));
    assert.ok(r.verify!.ok, JSON.stringify(r.verify));
    assert.is(r.verify!.equal, outputs.length);
    outs.push(got);
  }
  assert.equal(outs[0], outs[1]);
});

test("replay --verify names the first output that differs: subject, index, ids and the field", async () => {
  const records = await readRecords(session);
  const subject = "troupe.out.stats.api-latency_ms";
  const target = records.filter((m) => m.subject === subject)[2]!;
  const path = file();
  await rewrite(session, path, (m) => {
    if (m.index !== target.index) return m.data;
    const env = decodeValue(m.data) as Envelope<Record<string, number>>;
    return encodeEnvelope({ ...env, body: { ...env.body, mean: env.body.mean! + 0.5 } });
  });
  const r = await replay(path, { verify: true });
  const v = r.verify!;
  assert.not.ok(v.ok);
  assert.is(v.different, 1);
  assert.is(v.first!.kind, "different");
  assert.is(v.first!.subject, subject);
  assert.is(v.first!.index, 2);
  const id = (decodeValue(target.data) as Envelope).id;
  assert.is(v.first!.recordedId, id);
  assert.is(v.first!.replayedId, id);
  assert.match(v.first!.detail, /^body\.mean: recorded [\d.e+-]+, replayed [\d.e+-]+$/);
});

test("replay --verify reports an output the recording lacks, and one the replay did not produce", async () => {
  const records = await readRecords(session);
  const subject = "troupe.out.stats.api-cpu";
  const onSubject = records.filter((m) => m.subject === subject);
  const last = onSubject[onSubject.length - 1]!;
  const dropped = file();
  await rewrite(session, dropped, (m) => (m.index === last.index ? undefined : m.data));
  const extra = (await replay(dropped, { verify: true })).verify!;
  assert.not.ok(extra.ok);
  assert.is(extra.extra, 1);
  assert.is(extra.first!.kind, "extra");
  assert.is(extra.first!.subject, subject);
  assert.is(extra.first!.index, onSubject.length - 1);
  // An input missing from the recording: its channel's outputs from then on are not produced.
  const frame = records.find((m) => m.subject === "troupe.feed.metrics.api-cpu")!;
  const noInput = file();
  await rewrite(session, noInput, (m) => (m.index === frame.index ? undefined : m.data));
  const missing = (await replay(noInput, { verify: true })).verify!;
  assert.not.ok(missing.ok);
  assert.is(missing.first!.subject, subject);
  assert.is(missing.first!.index, 0);
});

/**
 * What a replay takes as an input: a feed frame or a control message. The recording also holds the
 * outputs, dead letters and the hosts' `troupe.sys` messages (a settings report after a control
 * message), which are none.
 */
const isInput = (m: { subject: string }) => /^troupe\.(feed|ctl)\./.test(m.subject);

test("a truncated recording replays its complete records and reports the cut; verify fails on it, naming what it held, unless acceptUnclosed", async () => {
  const whole = readFileSync(session);
  const records = await readRecords(session);
  const cutAt = records[150]!.offset + 30; // inside record 150
  const path = file();
  writeFileSync(path, whole.subarray(0, cutAt));
  const r = await replay(path, { verify: true });
  assert.ok(r.cut);
  assert.is(r.cut!.records, 150);
  assert.is(r.cut!.offset, records[150]!.offset);
  assert.match(r.cut!.reason, "record 150");
  const inputs = records.slice(0, 150).filter(isInput);
  assert.is(r.inputs, inputs.length);
  assert.is(r.whole, false);
  assert.not.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.equal(r.verify!.unclosed, {
    records: 150,
    bytes: records[150]!.offset,
    accepted: false,
  });
  const accepted = await replay(path, { verify: true, acceptUnclosed: true });
  assert.ok(accepted.verify!.ok, JSON.stringify(accepted.verify));
  assert.is(accepted.verify!.unclosed!.accepted, true);
});

test("--to stops after the range and verifies its outputs; --from applies the earlier inputs first", async () => {
  const records = await readRecords(session);
  const inputs = records.filter(isInput);
  const toUs = inputs[59]!.tUs;
  const r = await replay(session, { verify: true, toUs });
  assert.is(r.inputs, 60);
  assert.is(r.lastUs, toUs);
  assert.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.ok(r.outputs > 0 && r.outputs < records.length - inputs.length);
  // A whole recording replayed up to --to is not said to be unclosed: its trailer was not read.
  const upTo = await replay(session, { toUs });
  assert.is(upTo.whole, undefined);
  assert.is(upTo.verify, undefined);

  const fromUs = inputs[80]!.tUs;
  const all = await replay(session, {});
  const f = await replay(session, { verify: true, fromUs });
  assert.is(f.warmupInputs, 80);
  assert.is(f.inputs, inputs.length - 80);
  assert.is(f.firstUs, fromUs);
  assert.ok(f.verify!.ok, JSON.stringify(f.verify));
  assert.is(f.outputs, all.outputs);
  assert.ok(f.rangeOutputs > 0 && f.rangeOutputs < f.outputs);
});

test("--inspect gives the machine's state and context and the kernel's state at the end of the range", async () => {
  const r = await replay(session, { inspect: { kind: "stats", key: "api-cpu" } });
  const i = r.inspect!;
  assert.is(i.kind, "stats");
  assert.is(i.key, "api-cpu");
  assert.is(i.machine.value, "live");
  const context = i.machine.context as { config: { every_samples: number }; key: string };
  assert.is(context.key, "api-cpu");
  assert.is(context.config.every_samples, 7); // the control message took effect
  const kernel = i.kernel as Record<string, number>;
  assert.is(kernel.count, 400); // samples counted
  assert.is(kernel.published_count, 399); // at the last publication: 57 x 7
  assert.is(kernel.samples_since_publication, 1);
  assert.is(kernel.every_samples, 7); // the kernel's, which the control message changed too
  assert.is(i.kernelBytes, 96);
  // Before the control message, the configuration was still the recorded one.
  const records = await readRecords(session);
  const ctl = records.find((m) => m.subject.startsWith("troupe.ctl."))!;
  const early = await replay(session, {
    toUs: ctl.tUs - 1,
    inspect: { kind: "stats", key: "api-cpu" },
  });
  assert.is((early.inspect!.machine.context as typeof context).config.every_samples, 30);
  try {
    await replay(session, { inspect: { kind: "stats", key: "nope" } });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "stats/nope");
    assert.match((err as Error).message, "stats/api-cpu");
  }
});

test("replay paces at the recorded pace times the speed (virtual clock)", async () => {
  const clock = new VirtualClock(START_US, { autoAdvance: true });
  const r = await replay(session, { speed: 4, clock });
  const spanS = (r.lastUs! - r.firstUs!) / 1e6;
  assert.ok(spanS > 0.1);
  assert.ok(Math.abs(r.elapsedS - spanS / 4) < 0.002, `${r.elapsedS} s for ${spanS} s at 4x`);
  assert.ok(Math.abs(r.speedAchieved - 4) < 0.1, `${r.speedAchieved}`);
});

test("replay into a running cluster's bus collects and verifies its outputs", async () => {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "cluster",
    bus,
    actors: [statsActor],
    config: CONFIG,
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  try {
    const r = await replay(session, { verify: true, bus, settleS: 0.2 });
    assert.ok(r.verify!.ok, JSON.stringify(r.verify));
    assert.is(r.verify!.equal, r.recordedOutputs);
  } finally {
    await host.stop();
  }
});

test("replay refuses what it cannot do: unknown kinds only, verify without outputs, a bad speed", async () => {
  const unknown = file();
  await recordSession(unknown, { header: { config: { actors: { martian: {} } } } });
  try {
    await replay(unknown, {});
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "martian");
  }
  const feedOnly = file();
  await rewrite(session, feedOnly, (m) => m.subject.startsWith("troupe.out.") ? undefined : m.data);
  const noConfig = file();
  const reader = await RecordingReader.open(feedOnly);
  const w = RecordingWriter.create(noConfig, { source: reader.header.source });
  for (const m of await readRecords(feedOnly)) w.append(m.subject, m.tUs, m.data);
  w.close();
  try {
    await replay(noConfig, { verify: true });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "no actor outputs");
  }
  const r = await replay(noConfig, {}); // every kind runs on a feed-only recording
  assert.ok(r.kinds.includes("stats"));
  try {
    await replay(session, { speed: 0 });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, "speed");
  }
});

test.run();
