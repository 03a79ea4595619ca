/**
 * A recording begun while an instance lagged its inputs by more than the window of ids its state
 * keeps: the outputs of inputs applied before the start came after the recorder subscribed, the
 * oldest of them caused by inputs neither the start state's window nor the recording holds. They
 * are not the replay's to make: `troupe replay --verify` leaves them out, and verifies the rest.
 * Before, the first of them was compared (and missing from the replay), and the verify failed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { INPUT_IDS_MAX } from "../../actors/runtime/instances/mod.ts";
import { encodeFrame, feedSubject, savedIds } from "../../protocol/mod.ts";
import { Recorder } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("replay of a recording begun while an instance lagged");
const dir = tempDir("troupe-replay-lagging-");
test.after(() => dir.remove());

/** Inputs queued before the recorder, more than the window of ids a state keeps. */
const BEFORE = INPUT_IDS_MAX + 44;

function frame(i: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel: "a", seq0: i, t, v: new Float64Array([i % 7]) }, {
    id: `f-a-${i}`,
    src: "test",
  });
}

test("outputs of inputs before the start, past the state's window of ids, are not compared", async () => {
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
    for (let i = 0; i < BEFORE; i++) bus.publish(feedSubject("t", "a"), frame(i));
    await bus.flush();
    const begun = Recorder.begin(bus, { path, header: { source: "test" } });
    setTimeout(open, 50);
    const { recorder, outcome } = await begun;
    assert.equal(outcome.notes, []);
    const ids = outcome.start!.parts[0]!.instances[0]!.ids;
    assert.is(ids.byteLength, INPUT_IDS_MAX * 8);
    assert.equal(
      ids.subarray(0, 8),
      savedIds([`f-a-${BEFORE - INPUT_IDS_MAX}`]),
      "the oldest inputs are past its window",
    );
    for (let i = BEFORE; i < BEFORE + 5; i++) bus.publish(feedSubject("t", "a"), frame(i));
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
});

test.run();
