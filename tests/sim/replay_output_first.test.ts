/**
 * A recording begun mid-session where outputs reached the recorder before the inputs that caused
 * them. NATS orders what one publisher sends, not an input and the output it caused: the input's
 * publisher may hand it to a host before the recorder, and the host's output overtake it. Such an
 * output is still the replay's to make: `troupe replay --verify` compares it, and verifies.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { type Bus, decodeValue, feedSubject } from "../../protocol/mod.ts";
import { Recorder, RecordingReader } from "../../sim/recording/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { oneSampleFrame } from "../_support/one_sample_frame.ts";

const test = suite("replay of a recording whose outputs came before their inputs");
const dir = tempDir("troupe-replay-output-first-");
test.after(() => dir.remove());

/** How late the recorder hears each input, in ms: its outputs come first. */
const INPUT_LATE_MS = 40;
const AFTER = 5;

/** `bus` as a recorder on it hears it: every input `INPUT_LATE_MS` late, in order. */
function inputsLate(bus: Bus): Bus {
  return {
    publish: (subject, data, options) => bus.publish(subject, data, options),
    subscribe: (pattern, handler, options) =>
      bus.subscribe(pattern, (msg) => {
        if (!msg.subject.startsWith("troupe.feed.")) return handler(msg);
        const late = { ...msg, data: msg.data.slice() };
        setTimeout(() => handler(late), INPUT_LATE_MS);
      }, options),
    request: (subject, data, options) => bus.request(subject, data, options),
    flush: () => bus.flush(),
    close: () => bus.close(),
  };
}

test("outputs recorded before their inputs are compared, and verify", async () => {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const path = join(dir.path, "output-first.rec");
  try {
    for (let i = 0; i < 10; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
    await bus.flush();
    const { recorder, outcome } = await Recorder.begin(inputsLate(bus), {
      path,
      header: { source: "test" },
    });
    assert.equal(outcome.notes, []);
    for (let i = 10; i < 10 + AFTER; i++) bus.publish(feedSubject("t", "a"), oneSampleFrame(i));
    await bus.flush();
    await new Promise((r) => setTimeout(r, INPUT_LATE_MS * 3));
    recorder.endInputs();
    await recorder.outputsSettled(200, 5000);
    recorder.stop();
  } finally {
    await host.stop();
  }
  // The file holds the outputs first, as the recorder heard them.
  const order: string[] = [];
  for await (const m of (await RecordingReader.open(path)).messages()) {
    const env = decodeValue(m.data) as { id?: string; cause?: string };
    if (m.subject.startsWith("troupe.feed.")) order.push(`in ${env.id}`);
    else if (m.subject.startsWith("troupe.out.")) order.push(`out ${env.cause}`);
  }
  assert.ok(
    order.indexOf("out f-a-10") >= 0 && order.indexOf("out f-a-10") < order.indexOf("in f-a-10"),
    order.join(", "),
  );
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `verified: ${AFTER} outputs equal to the recorded ones, byte for byte`);
});

test.run();
