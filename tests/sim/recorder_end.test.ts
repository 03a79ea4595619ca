/**
 * A recorder begun mid-session, as it ends, waits for the outputs of the inputs it recorded last
 * as long as outputs lagged their inputs while it recorded, not only half a second: on a loaded
 * host an instance that applies each input after a slow journal write sends its last outputs
 * well after the last input, and a recording cut before them fails its replay's verification
 * (extra outputs).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { decodeValue, encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { Recorder, RecordingReader } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("recorder end");
const dir = tempDir("troupe-recorder-end-");
test.after(() => dir.remove());

/** Each append to a stats instance's stream takes this long: a store that is slow to write. */
const APPEND_MS = 700;

function frame(i: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel: "a", seq0: i, t, v: new Float64Array([i]) }, {
    id: `f-a-${i}`,
    src: "test",
  });
}

test("the outputs of the last inputs are waited for as long as outputs lagged their inputs", async () => {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    journal: stalledJournal(
      "stats/",
      (pos) => new Promise((r) => setTimeout(() => r(pos), APPEND_MS)),
    ),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const path = join(dir.path, "end.rec");
  const causes: string[] = [];
  bus.subscribe("troupe.out.stats.a", (m) => {
    causes.push(String((decodeValue(m.data) as { cause?: string }).cause));
  });
  try {
    const { recorder } = await Recorder.begin(bus, { path, header: { source: "test" } });
    // The first input's output comes after two slow appends (the instance's start, the input):
    // the recorder learns how late outputs come.
    bus.publish(feedSubject("t", "a"), frame(0));
    for (let i = 0; !causes.includes("f-a-0"); i++) {
      if (i > 500) throw new Error("no output of the first input in 5 s");
      await new Promise((r) => setTimeout(r, 10));
    }
    // The last input, and the recorder ends at once: its output comes APPEND_MS later, past the
    // half second of quiet.
    bus.publish(feedSubject("t", "a"), frame(1));
    await bus.flush();
    recorder.endInputs();
    await recorder.outputsSettled(500, 5000);
    recorder.stop();
    const recorded: string[] = [];
    for await (const m of (await RecordingReader.open(path)).messages()) {
      if (m.subject === "troupe.out.stats.a") {
        recorded.push(String((decodeValue(m.data) as { cause?: string }).cause));
      }
    }
    assert.equal(recorded, ["f-a-0", "f-a-1"], "the last input's output is in the recording");
  } finally {
    await host.stop();
  }
});

test.run();
