/**
 * A host that misses many instances for one reason (here, every instance's inputs still waiting
 * when the capture's settle time ran out) is said in one line a reason, by `Recorder.begin`'s
 * notes and by `troupe replay`: the count and the first few names, not a line an instance.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { feedSubject } from "../../protocol/mod.ts";
import { missedByReason, namedInstances, Recorder } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { oneSampleFrame } from "../_support/one_sample_frame.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("instances a state capture missed, a line a reason");
const dir = tempDir("troupe-record-missed-");
test.after(() => dir.remove());

const CHANNELS = ["a", "b", "c", "d", "e"];

test("missedByReason and namedInstances", () => {
  const missed = [
    { stream: "stats/a", reason: "slow" },
    { stream: "stats/b", reason: "stopped" },
    { stream: "stats/c", reason: "slow" },
  ];
  assert.equal(missedByReason(missed), [
    { reason: "slow", streams: ["stats/a", "stats/c"] },
    { reason: "stopped", streams: ["stats/b"] },
  ]);
  assert.is(namedInstances(["x/1", "x/2"]), "2 instances (x/1, x/2)");
  assert.is(
    namedInstances(Array.from({ length: 1204 }, (_, i) => `x/${i}`)),
    "1,204 instances (x/0, x/1, x/2 and 1,201 more)",
  );
});

test("a host's instances all missed for one reason: one note, one replay line", async () => {
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
  const path = join(dir.path, "missed.rec");
  try {
    for (const c of CHANNELS) bus.publish(feedSubject("t", c), oneSampleFrame(0, c));
    await bus.flush();
    // The instances' inputs wait on the journal past the capture's settle time.
    const { recorder, outcome } = await Recorder.begin(bus, {
      path,
      header: { source: "test" },
      capture: { settleMs: 300 },
    });
    assert.equal(outcome.notes, [
      "host h1 did not capture 5 instances (stats/a, stats/b, stats/c and 2 more): inputs " +
      "still waiting after 300 ms",
    ]);
    open();
    for (const c of CHANNELS) bus.publish(feedSubject("t", c), oneSampleFrame(1, c));
    await bus.flush();
    recorder.endInputs();
    await recorder.outputsSettled(500, 5000);
    recorder.stop();
  } finally {
    await host.stop();
  }
  const r = await runTroupe(["replay", path]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    "troupe replay: 5 instances (stats/a, stats/b, stats/c and 2 more) were not in the start " +
      "state (inputs still waiting after 300 ms): their outputs may differ",
  );
  assert.not.match(r.stdout, "stats/e was not");
});

test.run();
