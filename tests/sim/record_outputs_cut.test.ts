/**
 * A recording begun mid-session that ends while a host still sends the outputs of its last
 * inputs, past the time the recorder waits for them (a host lagging its inputs): the trailer says
 * so, and `troupe replay --verify` verifies the outputs recorded and says how many of the last
 * inputs' it could not check, rather than failing on outputs the file never had a chance to hold.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { feedSubject } from "../../protocol/mod.ts";
import { Recorder, RecordingReader } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { oneSampleFrame } from "../_support/one_sample_frame.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("a recording whose last outputs came after its recorder stopped waiting");
const dir = tempDir("troupe-record-outputs-cut-");
test.after(() => dir.remove());

const INPUTS = 40;
/**
 * Each input's journal append completes this long after it is made, and the host makes the next
 * only then: the outputs trickle in, one a step, however late the process runs.
 */
const STEP_MS = 50;
/**
 * Quiet for this long is what the recorder takes for the outputs' end: several steps, so that a
 * pause of a loaded machine between two outputs is not taken for it.
 */
const QUIET_MS = 300;

test("the trailer says so, and replay --verify checks the rest", async () => {
  const bus = new InProcessBus();
  let outputs = 0;
  bus.subscribe("troupe.out.stats.>", () => void outputs++);
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    // An instance's appends go one at a time: each of these completes a step after it is made.
    journal: stalledJournal(
      "stats/",
      (pos) => new Promise((r) => setTimeout(() => r(pos), STEP_MS)),
    ),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const path = join(dir.path, "cut.rec");
  let summary;
  try {
    const { recorder } = await Recorder.begin(bus, {
      path,
      header: { source: "test" },
      capture: { settleMs: 200 },
    });
    for (let i = 0; i < INPUTS; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
    await bus.flush();
    recorder.endInputs();
    // From the first output on, the rest come a step apart for INPUTS steps.
    for (let i = 0; i < 500 && outputs === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(outputs > 0, "the outputs began");
    assert.is(await recorder.outputsSettled(QUIET_MS, 800), false, "outputs were still coming");
    summary = recorder.stop();
  } finally {
    await host.stop();
  }
  assert.is(summary.outputsCut, true);
  const recordedOut = summary.byArea["out"] ?? 0;
  assert.ok(recordedOut > 0 && recordedOut < INPUTS, `${recordedOut} outputs recorded`);
  const reader = await RecordingReader.open(path);
  for await (const _ of reader.messages()) { /* read through, to the trailer */ }
  assert.equal(reader.trailer?.outputsCut, true);

  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    `verified: ${recordedOut} outputs equal to the recorded ones, byte for byte; ` +
      `${INPUTS - recordedOut} replayed outputs of the last inputs could not be checked (the ` +
      "recorder stopped waiting for them: a host lagged its inputs)",
  );
});

test.run();
