/**
 * A replay skips what its recording's dead letters say the live host skipped. Live: a host trying
 * a team's kind on real trials threads (kind "deadly": 777 never returns, 666 ends its thread), a
 * recorder beside it; the step past its deadline and the one that ended its thread are skipped
 * and dead-lettered (`deadline`, `crash`), the channels go on. Replayed on worker threads and in
 * this thread, the same inputs are skipped, with the same dead letters, and every output is equal:
 * without it the replay would spin on 777 for good, and 666 would end the replay's thread.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { Host } from "../../actors/runtime/host/host.ts";
import { StepTrials } from "../../actors/runtime/host/step_trials.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { decodeDeadLetter } from "../../actors/runtime/edge/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { Recorder, replay } from "../../sim/recording/mod.ts";
import { registry } from "../_support/deadly_registry.ts";
import { tempDir } from "../_support/nats.ts";
import { until } from "../_support/alertmanager.ts";

const test = suite("replay: recorded skips");
const dir = tempDir("troupe-replay-skips-");
test.after(() => dir.remove());

const MODULE = new URL("../_support/deadly_registry.ts", import.meta.url);
const DEADLINE_MS = 1500;
const T0_US = 1_704_067_200_000_000;

/** Channel a meets 777 (never returns) at its 2nd frame, c meets 666 (ends its thread) at its 2nd. */
const VALUES: Record<string, number[]> = {
  a: [1, 777, 2, 3],
  b: [4, 5, 6, 7],
  c: [8, 666, 9, 10],
};

let path: string;
let liveLetters: Array<{ reason: string; actor: string | undefined }> = [];

test.before(async () => {
  path = join(dir.path, "skips.rec");
  const bus = new InProcessBus();
  let now = T0_US;
  const rec = Recorder.start(bus, {
    path,
    header: { source: "test", config: { actors: { deadly: {} } } },
    clock: { now: () => (now += 1000) },
  });
  const letters: Array<{ reason: string; actor: string | undefined }> = [];
  bus.subscribe("troupe.dlq.>", (m) => {
    const l = decodeDeadLetter(m.data);
    letters.push({ reason: l.reason, actor: l.actor });
  });
  const outputs: string[] = [];
  bus.subscribe("troupe.out.deadly.>", (m) => outputs.push(m.subject));
  const trials = await StepTrials.start({
    kindsModule: MODULE,
    kinds: ["deadly"],
    deadlineMs: () => DEADLINE_MS,
    log: () => {},
  });
  const host = new Host({
    hostId: "live",
    bus,
    actors: [registry.deadly!],
    config: { deadly: {} },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    stepTrials: trials,
    log: () => {},
  });
  try {
    await host.start();
    for (let i = 0; i < 4; i++) {
      for (const [channel, values] of Object.entries(VALUES)) {
        const frame = {
          channel,
          seq0: i,
          t: Float64Array.of(1.7e15 + i * 1e6),
          v: Float64Array.of(values[i]!),
        };
        bus.publish(
          feedSubject("t", channel),
          encodeFrame(frame, { id: `t:${channel}:${i}`, src: "t" }),
        );
      }
      await bus.flush();
    }
    // Every input applied or skipped: 10 outputs (12 inputs, 2 skipped) and the two letters.
    await until(() => outputs.length === 10 && letters.length === 2, 20_000, "the live run");
    await host.stop();
  } finally {
    await trials.stop();
  }
  await rec.stop();
  liveLetters = letters;
});

/** Replays the recording with `threads`, failing (not hanging) after `ms`. */
async function replayWithin(threads: number, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`replay did not end within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      replay(path, { verify: true, registry, registryModule: MODULE, threads }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

test("live: the stuck step and the one that ended its thread are dead-lettered, each once", () => {
  assert.equal(
    liveLetters.map((l) => `${l.reason} ${l.actor}`).sort(),
    ["crash deadly/c", "deadline deadly/a"],
  );
});

/** Whether the replay on threads skipped both: in this thread a replay that did not would spin. */
let threadsSkipped = false;

test("replayed on worker threads: both inputs skipped as recorded, every output equal", async () => {
  const r = await replayWithin(2, 20_000);
  assert.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.is(r.verify!.equal, 10);
  assert.is(r.outputs, 10);
  assert.equal(r.deadLetters, { recorded: 2, replayed: 2 });
  threadsSkipped = true;
});

test("replayed in this thread: the same", async () => {
  if (!threadsSkipped) assert.unreachable("not run: a replay here that does not skip 777 spins");
  const r = await replayWithin(1, 20_000);
  assert.ok(r.verify!.ok, JSON.stringify(r.verify));
  assert.is(r.verify!.equal, 10);
  assert.equal(r.deadLetters, { recorded: 2, replayed: 2 });
});

test.run();
