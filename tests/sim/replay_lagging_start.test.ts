/**
 * A recording begun while an instance lagged its inputs by more than the window of ids its state
 * keeps: the inputs were published before the recorder subscribed, and their outputs came after
 * it. The instance applies them after the ask for its state, so its snapshot holds all their ids,
 * those its window dropped too (a host keeps them while a capture waits). Their outputs are not
 * the replay's to make: `troupe replay --verify` leaves them out, and verifies the rest. So it does
 * where the start state holds only the window (an output of an input applied before the ask that
 * came after the subscription): an output caused by an input the recording does not hold.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { INPUT_IDS_MAX } from "../../actors/runtime/instances/mod.ts";
import { feedSubject, savedIds } from "../../protocol/mod.ts";
import { Recorder, RecordingReader, RecordingWriter } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { readRecords } from "../_support/recording.ts";
import { tempDir } from "../_support/nats.ts";
import { oneSampleFrame } from "../_support/one_sample_frame.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("replay of a recording begun while an instance lagged");
const dir = tempDir("troupe-replay-lagging-");
test.after(() => dir.remove());

/** Inputs queued before the recorder, more than the window of ids a state keeps. */
const BEFORE = INPUT_IDS_MAX + 44;

test("outputs of inputs before the start, past the instance's window of ids, are not compared", async () => {
  const bus = new InProcessBus();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    journal: stalledJournal("stats/", (pos) => gate.then(() => pos)),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const path = join(dir.path, "lagging.rec");
  try {
    // The instance lags: its inputs wait for the journal until the recorder has subscribed, so
    // their outputs come after it.
    for (let i = 0; i < BEFORE; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
    await bus.flush();
    const begun = Recorder.begin(bus, { path, header: { source: "test" } });
    setTimeout(open, 50);
    const { recorder, outcome } = await begun;
    assert.equal(outcome.notes, []);
    const ids = outcome.start!.parts[0]!.instances[0]!.ids;
    assert.is(ids.byteLength, BEFORE * 8, "every input it applied since the ask");
    assert.equal(ids.subarray(0, 8), savedIds(["f-a-0"]), "those past its window too");
    for (let i = BEFORE; i < BEFORE + 5; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
    await bus.flush();
    recorder.endInputs();
    await recorder.outputsSettled(500, 5000);
    recorder.stop();
  } finally {
    await host.stop();
  }
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "verified: 5 outputs equal to the recorded ones, byte for byte");
  assert.match(r.stdout, `${BEFORE} recorded outputs caused by inputs before it were not compared`);

  // The same recording with a start state that holds only the instance's window: the oldest
  // outputs' causes are neither in it nor in the recording.
  const reader = await RecordingReader.open(path);
  const start = structuredClone(reader.start!);
  const inst = start.parts[0]!.instances[0]!;
  inst.ids = inst.ids.subarray(inst.ids.byteLength - INPUT_IDS_MAX * 8);
  const windowOnly = join(dir.path, "window-only.rec");
  const w = RecordingWriter.create(windowOnly, { source: "test" }, {}, start);
  for (const m of await readRecords(path)) w.append(m.subject, m.tUs, m.data, m.headers);
  w.close();
  const again = await runTroupe(["replay", windowOnly, "--verify"]);
  assert.is(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, "verified: 5 outputs equal to the recorded ones, byte for byte");
  assert.match(
    again.stdout,
    `${BEFORE} recorded outputs caused by inputs before it were not compared`,
  );
});

test.run();
