/**
 * A replay admits the channels its live host did: the recording's `limits.channels_max`, else what
 * its `limits.memory_budget_mb` holds of a channel of its kinds, else what `troupe run`'s default budget holds on this
 * machine; not a fixed count that a fleet's recording is past. In this thread and on threads.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { channelsFitting, hostHeldBytes } from "../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { RecordingWriter, replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("replay: the live host's channel limit");
const dir = tempDir("troupe-replay-limit-");
test.after(() => dir.remove());
const CHANNELS = 1_200;

/** A recording of one one-sample frame on each of 1,200 channels, for stats, under `limits`. */
function recording(name: string, limits?: Record<string, number>): string {
  const path = join(dir.path, name);
  const w = RecordingWriter.create(path, {
    source: "test",
    config: { actors: { stats: { every_samples: 1 } }, ...(limits ? { limits } : {}) },
  });
  for (let i = 0; i < CHANNELS; i++) {
    const channel = `c${i}`;
    const frame = { channel, seq0: 0, t: Float64Array.of(1e15 + i), v: Float64Array.of(i) };
    w.append(feedSubject("m", channel), 1e15 + i, encodeFrame(frame, { id: `f${i}`, src: "t" }));
  }
  w.close();
  return path;
}

for (const threads of [1, 2]) {
  test(`no limit in the recording: every channel of a fleet is admitted (threads ${threads})`, async () => {
    const r = await replay(recording(`none-${threads}.rec`), { threads });
    assert.is(r.deadLetters.replayed, 0);
    assert.is(r.outputs, CHANNELS);
  });

  test(`the recording's channels_max, or its memory budget's, refuses the rest (threads ${threads})`, async () => {
    const max = await replay(recording(`max-${threads}.rec`, { channels_max: 1000 }), { threads });
    assert.is(max.deadLetters.replayed, CHANNELS - 1000);
    assert.is(max.outputs, 1000);
    const fits = channelsFitting(50, hostHeldBytes({ stats: { every_samples: 1 } }, ACTOR_KINDS));
    const budget = await replay(recording(`mb-${threads}.rec`, { memory_budget_mb: 50 }), {
      threads,
    });
    assert.is(budget.deadLetters.replayed, CHANNELS - fits);
    assert.is(budget.outputs, fits);
  });
}

test.run();
