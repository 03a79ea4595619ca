/**
 * A recording begun while an instance applied more inputs than the window of ids its state keeps,
 * between the ask for the hosts' state and its snapshot: the ids that fell out of the window are
 * in the captured state all the same (a host keeps the ids its windows drop while a capture
 * waits), so the replay passes those inputs over rather than applying them again, and
 * `troupe replay --verify` verifies. Before, it applied them twice and its outputs differed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/mod.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { INPUT_IDS_MAX } from "../../actors/runtime/instances/mod.ts";
import { feedSubject } from "../../protocol/mod.ts";
import { Recorder } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { oneSampleFrame } from "../_support/one_sample_frame.ts";

const test = suite("replay of a recording begun while an instance overran its window of ids");
const dir = tempDir("troupe-replay-busy-");
test.after(() => dir.remove());

/** Inputs before the recording, and those applied between the ask and the snapshot. */
const BEFORE = 20;
const DURING = INPUT_IDS_MAX + 150;
const AFTER = 5;

test("inputs applied between the ask and the snapshot, past the window, are held", async () => {
  const bus = new InProcessBus();
  const publish = (from: number, to: number) => {
    for (let i = from; i < to; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
  };
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    // The moment the host hears the ask, a burst: applied before its first look at the mailboxes.
    log: (line) => {
      if (line.startsWith("state capture asked")) publish(BEFORE, BEFORE + DURING);
    },
  });
  await host.start();
  const path = join(dir.path, "busy.rec");
  try {
    publish(0, BEFORE);
    await bus.flush();
    const { recorder, outcome } = await Recorder.begin(bus, { path, header: { source: "test" } });
    assert.equal(outcome.notes, []);
    const inst = outcome.start!.parts[0]!.instances[0]!;
    assert.is(inst.stream, "stats/a");
    assert.ok(
      inst.ids.byteLength >= (DURING + 1) * 8,
      `the captured ids hold every input since the ask: ${inst.ids.byteLength / 8} ids`,
    );
    publish(BEFORE + DURING, BEFORE + DURING + AFTER);
    await bus.flush();
    recorder.endInputs();
    await recorder.outputsSettled(500, 5000);
    recorder.stop();
  } finally {
    await host.stop();
  }
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `verified: ${AFTER} outputs equal to the recorded ones, byte for byte`);
  assert.match(r.stdout, `${DURING} recorded outputs caused by inputs before it were not compared`);
});

test.run();
