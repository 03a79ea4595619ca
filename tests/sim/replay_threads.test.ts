import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import {
  ctlSubject,
  decodeValue,
  encodeEnvelope,
  encodeFrame,
  type Envelope,
  feedSubject,
} from "../../protocol/mod.ts";
import { VirtualClock } from "../../sim/clock.ts";
import { createMarketFeed } from "../../sim/feeds/mod.ts";
import {
  RecordingReader,
  RecordingWriter,
  replay,
  ReplayError,
  type ReplayOptions,
  type ReplayResult,
} from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";
import { publishFrames, recordLiveSession } from "./_live_session.ts";
import { BOOM_CHANNEL, registry as testKinds } from "./_replay_kinds.ts";

const test = suite("replay on worker threads");
const dir = tempDir("troupe-replay-threads-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `t${++n}.rec`);

const START_US = 1_704_067_200_000_000;
const STEP_US = 1000;
/** Coherence groups that overlap: SYM003 feeds three groups, which may live on three threads. */
const CONFIG: Record<string, unknown> = {
  stats: { every_samples: 40 },
  anomaly: {},
  collapse: {},
  coherence: {
    groups: { a: ["SYM001", "SYM002", "SYM003"], b: ["SYM003", "SYM004", "SYM005"], c: ["SYM*"] },
    warmup_bars: 5,
  },
};

function ctl(id: string, body: unknown): Uint8Array {
  return encodeEnvelope({ id, type: "config", src: "t", ts: 0, body });
}

/**
 * A live session of every kind over 6 market channels, recorded: 30 steps of 25-sample frames; at
 * step 10 a control message to every stats instance and one to stats/SYM002; at step 15 a frame
 * that fails validation (a dead letter) and a control message the kind refuses (counted, and a
 * dead letter too: no one was answered); at step 20 a control message to every coherence instance.
 */
async function recordSession(path: string): Promise<void> {
  const live = { actors: Object.values(ACTOR_KINDS), config: CONFIG, header: { seed: 11 } };
  await recordLiveSession(path, live, async (bus) => {
    const feed = createMarketFeed({ symbols: 6, seed: 11, batch: 25, volume: false });
    for (let step = 0; step < 30; step++) {
      publishFrames(bus, feed.next(), { domain: "market", src: "m" });
      if (step === 10) {
        bus.publish(ctlSubject("stats"), ctl("c1", { every_samples: 15 }));
        bus.publish(ctlSubject("stats", "SYM002"), ctl("c2", { every_samples: 9 }));
      }
      if (step === 15) {
        bus.publish(feedSubject("market", "SYM001"), new Uint8Array([0x93, 1, 2, 3]));
        bus.publish(ctlSubject("anomaly"), ctl("c3", { threshold: 7 }));
      }
      if (step === 20) {
        bus.publish(ctlSubject("coherence"), ctl("c4", { top_channels: 2 }));
      }
      await bus.flush();
    }
  });
}

/** A replay's outputs, as subject and base64 bytes, in the order it gave them. */
async function outputsOf(
  path: string,
  options: ReplayOptions,
): Promise<{ result: ReplayResult; outputs: string[] }> {
  const outputs: string[] = [];
  const result = await replay(path, {
    ...options,
    onOutput: (subject, data) => outputs.push(`${subject} ${Buffer.from(data).toString("base64")}`),
  });
  return { result, outputs };
}

/** The counts of a result that must not depend on where the actors ran. */
function counts(r: ReplayResult) {
  return {
    kinds: r.kinds,
    warmupInputs: r.warmupInputs,
    inputs: r.inputs,
    frames: r.frames,
    ctl: r.ctl,
    samples: r.samples,
    outputs: r.outputs,
    rangeOutputs: r.rangeOutputs,
    recordedOutputs: r.recordedOutputs,
    deadLetters: r.deadLetters,
    firstUs: r.firstUs,
    lastUs: r.lastUs,
    cut: r.cut,
    verify: r.verify,
  };
}

/** Fails instead of waiting forever. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

let session: string;
test.before(async () => {
  session = file();
  await recordSession(session);
});

test("a replay on 3 threads gives the single-threaded replay's outputs, byte for byte and in order", async () => {
  const one = await outputsOf(session, { threads: 1, verify: true });
  const three = await outputsOf(session, { threads: 3, verify: true });
  assert.is(one.result.threads, 0);
  assert.is(three.result.threads, 3);
  assert.ok(one.result.verify!.ok, JSON.stringify(one.result.verify));
  assert.ok(one.result.ctl === 4 && one.result.frames === 181, JSON.stringify(counts(one.result)));
  // The bad frame, and the refused control (dead-lettered: it asked for no answer).
  assert.is(one.result.deadLetters.replayed, 2);
  assert.equal(counts(three.result), counts(one.result));
  assert.is(three.outputs.length, one.outputs.length);
  assert.equal(three.outputs, one.outputs);
  // Every kind had outputs, coherence on several groups.
  const subjects = new Set(one.outputs.map((o) => o.split(" ")[0]!));
  for (
    const s of ["stats.SYM002", "anomaly.SYM001", "collapse.SYM006", "coherence.a", "coherence.b"]
  ) {
    assert.ok(subjects.has(`troupe.out.${s}`), `outputs on troupe.out.${s}`);
  }
  // Twice on threads: the same bytes again.
  const again = await outputsOf(session, { threads: 2 });
  assert.equal(again.outputs, one.outputs);
});

test("a threaded replay of a range gives the same outputs and counts as the single-threaded one", async () => {
  const records = await readRecords(session);
  const inputs = records.filter((m) => /^troupe\.(feed|ctl)\./.test(m.subject));
  const range = { fromUs: inputs[40]!.tUs, toUs: inputs[150]!.tUs, verify: true };
  const one = await outputsOf(session, { ...range, threads: 1 });
  const two = await outputsOf(session, { ...range, threads: 2 });
  assert.is(one.result.warmupInputs, 40);
  assert.is(one.result.inputs, 111);
  assert.ok(one.result.verify!.ok, JSON.stringify(one.result.verify));
  assert.ok(one.result.rangeOutputs > 0 && one.result.rangeOutputs < one.result.outputs);
  assert.equal(counts(two.result), counts(one.result));
  assert.equal(two.outputs, one.outputs);
  // No one reads the outputs: the threads only count them, the same.
  const counted = await replay(session, { fromUs: range.fromUs, toUs: range.toUs, threads: 3 });
  assert.is(counted.outputs, one.result.outputs);
  assert.is(counted.rangeOutputs, one.result.rangeOutputs);
  assert.equal(counted.deadLetters, one.result.deadLetters);
});

test("inspect on threads fetches the state from the thread that ran the instance", async () => {
  for (const which of [{ kind: "coherence", key: "b" }, { kind: "stats", key: "SYM002" }]) {
    const one = await replay(session, { threads: 1, inspect: which });
    const two = await replay(session, { threads: 2, inspect: which });
    assert.ok(one.inspect!.journalPosition > 10);
    assert.equal(two.inspect, one.inspect);
  }
  try {
    await replay(session, { threads: 2, inspect: { kind: "stats", key: "nope" } });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "stats/nope");
    assert.match((err as Error).message, "there were 21: stats/SYM001, anomaly/SYM001");
  }
});

test("verify on threads names the same first difference as the single-threaded replay", async () => {
  const records = await readRecords(session);
  const subject = "troupe.out.stats.SYM003";
  const target = records.filter((m) => m.subject === subject)[3]!;
  const path = file();
  const reader = await RecordingReader.open(session);
  const w = RecordingWriter.create(path, { ...reader.header, source: reader.header.source });
  for (const m of records) {
    let data = m.data;
    if (m.index === target.index) {
      const env = decodeValue(m.data) as Envelope<Record<string, number>>;
      data = encodeEnvelope({ ...env, body: { ...env.body, mean: env.body.mean! * 2 } });
    }
    w.append(m.subject, m.tUs, data, m.headers);
  }
  w.close();
  const one = await replay(path, { threads: 1, verify: true });
  const two = await replay(path, { threads: 2, verify: true });
  assert.not.ok(two.verify!.ok);
  assert.is(two.verify!.different, 1);
  assert.is(two.verify!.first!.subject, subject);
  assert.is(two.verify!.first!.index, 3);
  assert.match(two.verify!.first!.detail, /^body\.mean: recorded/);
  assert.equal(two.verify, one.verify);
});

test("a truncated recording replays its complete records on threads, as on one", async () => {
  const records = await readRecords(session);
  const cutAt = records[300]!.offset + 40; // inside record 300
  const path = file();
  writeFileSync(path, readFileSync(session).subarray(0, cutAt));
  const one = await outputsOf(path, { threads: 1, verify: true, acceptUnclosed: true });
  const two = await outputsOf(path, { threads: 2, verify: true, acceptUnclosed: true });
  assert.ok(two.result.cut);
  assert.is(two.result.cut!.records, 300);
  assert.is(two.result.cut!.offset, records[300]!.offset);
  assert.ok(two.result.verify!.ok, JSON.stringify(two.result.verify));
  assert.is(
    two.result.inputs,
    records.slice(0, 300).filter((m) => /^troupe\.(feed|ctl)\./.test(m.subject)).length,
  );
  assert.equal(counts(two.result), counts(one.result));
  assert.equal(two.outputs, one.outputs);
});

test("threads pace a replay at the recorded pace times the speed (virtual clock)", async () => {
  const clock = new VirtualClock(START_US, { autoAdvance: true });
  const r = await outputsOf(session, { speed: 8, clock, threads: 2 });
  const spanS = (r.result.lastUs! - r.result.firstUs!) / 1e6;
  assert.ok(Math.abs(r.result.elapsedS - spanS / 8) < 0.002, `${r.result.elapsedS} s for ${spanS}`);
  const one = await outputsOf(session, { threads: 1 });
  assert.equal(r.outputs, one.outputs);
});

/** A feed-only recording of 6 market channels for the kinds given, 10 frames each. */
function feedRecording(kinds: string[]): string {
  const path = file();
  const w = RecordingWriter.create(path, {
    source: "test",
    config: { actors: Object.fromEntries(kinds.map((k) => [k, { every_samples: 50 }])) },
  });
  const feed = createMarketFeed({ symbols: 6, seed: 3, batch: 20, volume: false });
  let t = START_US;
  for (let step = 0; step < 10; step++) {
    for (const f of feed.next()) {
      w.append(
        feedSubject("market", f.channel),
        t += STEP_US,
        encodeFrame(f, { id: `f:${f.seq0}`, src: "f" }),
      );
    }
  }
  w.close();
  return path;
}

test("a custom registry runs on threads from its module, with the same outputs", async () => {
  const path = feedRecording(["stats"]);
  const registryModule = new URL("./_replay_kinds.ts", import.meta.url);
  const one = await outputsOf(path, { registry: testKinds, threads: 1 });
  const two = await outputsOf(path, { registry: testKinds, registryModule, threads: 2 });
  assert.ok(one.outputs.length > 0);
  assert.equal(two.outputs, one.outputs);
  try {
    await replay(path, { registry: testKinds, threads: 2 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "registryModule");
  }
});

test("a thread whose host throws fails the replay with an error naming the input, without hanging", async () => {
  const registryModule = new URL("./_replay_kinds.ts", import.meta.url);
  const options = { registry: testKinds, registryModule, threads: 2 };
  const path = feedRecording(["stats", "boom"]);
  try {
    await within(15_000, "the replay", replay(path, options));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    const message = (err as Error).message;
    assert.match(message, /^Replay worker [12] of 2 failed: the host threw on input \d+ /);
    assert.match(message, `"troupe.feed.market.${BOOM_CHANNEL}"`);
    assert.match(message, `boom cannot start an instance for ${BOOM_CHANNEL}`);
  }
  // A kind whose routing throws fails the replay where it routes, naming the input.
  try {
    await within(15_000, "the replay", replay(feedRecording(["stats", "badroute"]), options));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, `("troupe.feed.market.${BOOM_CHANNEL}")`);
    assert.match((err as Error).message, `badroute cannot route channel ${BOOM_CHANNEL}`);
  }
  // A registry module that cannot load fails the replay too.
  const broken = new URL("./_replay_kinds_broken.ts", import.meta.url);
  try {
    await within(15_000, "the replay", replay(path, { ...options, registryModule: broken }));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "this registry module fails to load");
  }
  // The threads that failed are gone; a replay after them runs.
  const ok = await replay(feedRecording(["stats"]), { threads: 2 });
  assert.ok(ok.outputs > 0);
});

test("replay refuses threads it cannot use: a bad count, a live cluster's bus", async () => {
  for (const threads of [0, 1.5, 65]) {
    try {
      await replay(session, { threads });
      assert.unreachable();
    } catch (err) {
      assert.instance(err, RangeError);
      assert.match((err as Error).message, `got ${threads}`);
    }
  }
  try {
    await replay(session, { threads: 2, bus: new InProcessBus() });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReplayError);
    assert.match((err as Error).message, "live cluster");
  }
});

test.run();
